{#- The rejected versions of silver_transaction_versions: a filter on the fate, so a version
    leaves this view in the same statement that validates it. -#}
{{ config(materialized='view') }}

with

versions as (

    select * from {{ ref('silver_transaction_versions') }}

),

final as (

    select
        raw_id,
        transaction_id,
        rejection_reason,
        rejection_reasons,
        is_pending,
        payload,
        source,
        source_file,
        source_row,
        batch_id,
        ingested_at,
        bronze_loaded_at,
        judged_at as rejected_at

    from versions
    where fate = 'rejected'

)

select * from final
