{#- Every bronze version is in exactly one place, as far as the silver run got:
      count(bronze) = count(validated) + count(rejected) + superseded
    and, version by version: each bronze row has a fate (silver_transaction_versions, keyed by
    raw_id) and no fate lacks its bronze row; the winners are exactly the validated rows; each
    validated row counts its winner + superseded versions; no version is validated and rejected.
    Bounded by the watermark of what silver processed (the newest bronze_loaded_at its fate
    model saw): bronze rows loaded after that, e.g. a bronze run committed while this silver run
    was between its models and this test, are the next run's business, not a lost row.
    One row with the numbers when it fails.

    On an hourly run (test_scope() = 'batch') the same invariant for every version judged since
    this test last passed (its watermark, batch_watermarks.sql: several runs' worth when a run
    died before its tests or this test failed), the validated rows of those transactions, and
    every bronze row loaded after the newest one judged before that. Each such check passing,
    run after run, is the invariant for the whole table; what it cannot see is a change made
    outside the pipeline to rows it already passed (a row deleted by hand): the full form below
    finds that, daily in maintenance and weekly in the full refresh. Reads through indexes. -#}
{{ config(tags=['silver'], meta={'batch': {'stamp_of': 'silver_transaction_versions'}}) }}

{% set passed_through = batch_passed_through(model.unique_id) if test_scope() == 'batch' else none %}
{% if passed_through is not none %}

with

judged as (

    select raw_id, transaction_id, fate, judged_at
    from {{ ref('silver_transaction_versions') }}
    where judged_at > {{ passed_through }}

),

previous_watermark as (

    -- the newest bronze row judged before the batch: the rows after it are the batch's to judge
    select bronze_loaded_at
    from {{ ref('silver_transaction_versions') }}
    where judged_at <= {{ passed_through }}
    order by bronze_loaded_at desc
    limit 1

),

new_bronze as (

    select raw_id
    from {{ ref('bronze_transactions') }}
    where bronze_loaded_at > coalesce(
            (select bronze_loaded_at from previous_watermark), '-infinity'::timestamptz
        )
        and bronze_loaded_at <= (
            select max(bronze_loaded_at) from {{ ref('silver_transaction_versions') }}
        )

),

validated as (

    -- the validated row of every transaction the batch judged. The checks below probe the base
    -- tables' keys from the CTEs, never one CTE against another: PostgreSQL cannot index a CTE,
    -- and with its row estimates a CTE-to-CTE anti-join became a nested loop (100k x 100k rows:
    -- 202 s at 10M)
    select v.transaction_id, v.raw_id, v.version_count, v.judged_at
    from {{ ref('silver_validated_transactions') }} as v
    where v.transaction_id = any(array(
        select distinct transaction_id from judged where transaction_id is not null
    ))

),

counts as (

    select
        'batch' as test_scope,
        (select count(*) from judged) as judged_rows,
        (select count(*) from new_bronze) as new_bronze_rows,
        (
            select count(*) from new_bronze
            where not exists (
                select 1 from {{ ref('silver_transaction_versions') }} as versions
                where versions.raw_id = new_bronze.raw_id
            )
        ) as unjudged_rows,
        (
            select count(*) from judged
            where not exists (
                select 1 from {{ ref('bronze_transactions') }} as bronze
                where bronze.raw_id = judged.raw_id
            )
        ) as judged_without_bronze_rows,
        (
            -- a winner's validated row is that version, written from this judgment
            select count(*) from judged
            where judged.fate = 'winner'
                and not exists (
                    select 1 from {{ ref('silver_validated_transactions') }} as v
                    where v.transaction_id = judged.transaction_id
                        and v.raw_id = judged.raw_id
                        and v.judged_at = judged.judged_at
                )
        ) as winners_not_validated,
        (
            select count(*) from validated
            where not exists (
                select 1 from {{ ref('silver_transaction_versions') }} as versions
                where versions.raw_id = validated.raw_id and versions.fate = 'winner'
            )
        ) as validated_not_winners,
        (
            select count(*) from judged
            inner join {{ ref('silver_validated_transactions') }} as v
                on v.transaction_id = judged.transaction_id and v.raw_id = judged.raw_id
            where judged.fate <> 'winner'
        ) as double_counted_rows,
        (
            select count(*) from validated
            where validated.version_count <> (
                select count(*) from {{ ref('silver_transaction_versions') }} as versions
                where versions.transaction_id = validated.transaction_id
                    and versions.fate in ('winner', 'superseded')
            )
        ) as version_count_mismatches

)

select *
from counts
where unjudged_rows > 0
    or judged_without_bronze_rows > 0
    or winners_not_validated > 0
    or validated_not_winners > 0
    or double_counted_rows > 0
    or version_count_mismatches > 0

{% else %}


with

versions as (

    select
        raw_id,
        fate,
        bronze_loaded_at
    from {{ ref('silver_transaction_versions') }}

),

watermark as (

    select max(bronze_loaded_at) as processed_through from versions

),

bronze as (

    select raw_id
    from {{ ref('bronze_transactions') }}
    where bronze_loaded_at <= (select watermark.processed_through from watermark)

),

validated as (

    select
        raw_id,
        version_count
    from {{ ref('silver_validated_transactions') }}

),

rejected as (

    select raw_id from {{ ref('silver_rejected_transactions') }}

),

counts as (

    select
        'full' as test_scope,
        (select count(*) from bronze) as bronze_rows,
        (select count(*) from validated) as validated_rows,
        (select count(*) from rejected) as rejected_rows,
        (select coalesce(sum(version_count - 1), 0) from validated) as superseded_rows,
        (
            select count(*) from bronze
            where not exists (
                select 1 from versions
                where versions.raw_id = bronze.raw_id
            )
        ) as unjudged_rows,
        (
            select count(*) from versions
            where not exists (
                select 1 from bronze
                where bronze.raw_id = versions.raw_id
            )
        ) as judged_without_bronze_rows,
        (
            select count(*) from versions
            where
                fate = 'winner'
                and not exists (
                    select 1 from validated
                    where validated.raw_id = versions.raw_id
                )
        ) as winners_not_validated,
        (
            select count(*) from validated
            where not exists (
                select 1 from versions
                where versions.raw_id = validated.raw_id and versions.fate = 'winner'
            )
        ) as validated_not_winners,
        (
            select count(*) from rejected
            inner join validated on validated.raw_id = rejected.raw_id
        ) as double_counted_rows

)

select *
from counts
where
    bronze_rows <> validated_rows + rejected_rows + superseded_rows
    or unjudged_rows > 0
    or judged_without_bronze_rows > 0
    or winners_not_validated > 0
    or validated_not_winners > 0
    or double_counted_rows > 0

{% endif %}
