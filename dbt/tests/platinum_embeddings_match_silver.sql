{#- The seam between silver and platinum: one embedding line per validated transaction, no more
    (a join that fans out) and no fewer (one that filters). Both are read in one statement, and
    the platinum view reads silver directly, so no run can race this. -#}
{{ config(tags=['platinum']) }}

with

validated as (

    select transaction_id from {{ ref('silver_validated_transactions') }}

),

embeddings as (

    select
        transaction_id,
        count(*) as lines
    from {{ ref('platinum_transaction_embeddings') }}
    group by 1

)

select
    coalesce(validated.transaction_id, embeddings.transaction_id) as transaction_id,
    coalesce(embeddings.lines, 0) as lines

from validated
full outer join embeddings
    on embeddings.transaction_id = validated.transaction_id
where
    embeddings.lines is distinct from 1
    or validated.transaction_id is null
