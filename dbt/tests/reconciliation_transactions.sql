{#- Nothing is lost between bronze and silver:
      count(bronze) = count(validated) + count(rejected) + superseded
    where superseded = sum(version_count - 1) in validated. It also fails when any bronze record is
    in none of the three places (neither the winner, nor rejected, nor a version of a transaction
    that has a winner) or in both silver tables. One row with the numbers when it fails. -#}
{{ config(tags=['silver']) }}

with

bronze as (

    select
        raw_id,
        {{ json_text('payload', 'transaction_id') }} as transaction_id
    from {{ ref('bronze_transactions') }}

),

validated as (

    select transaction_id, raw_id, version_count from {{ ref('silver_validated_transactions') }}

),

rejected as (

    select raw_id from {{ ref('silver_rejected_transactions') }}

),

counts as (

    select
        (select count(*) from bronze) as bronze_rows,
        (select count(*) from validated) as validated_rows,
        (select count(*) from rejected) as rejected_rows,
        (select coalesce(sum(version_count - 1), 0) from validated) as superseded_rows,
        (
            select count(*)
            from bronze
            where not exists (select 1 from validated where validated.raw_id = bronze.raw_id)
                and not exists (select 1 from rejected where rejected.raw_id = bronze.raw_id)
                and not exists (
                    select 1 from validated where validated.transaction_id = bronze.transaction_id
                )
        ) as unaccounted_rows,
        (
            select count(*)
            from rejected
            inner join validated on validated.raw_id = rejected.raw_id
        ) as double_counted_rows

)

select *
from counts
where bronze_rows <> validated_rows + rejected_rows + superseded_rows
    or unaccounted_rows > 0
    or double_counted_rows > 0
