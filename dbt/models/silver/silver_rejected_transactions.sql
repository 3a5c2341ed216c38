{{
    config(
        unique_key='raw_id',
        post_hook=[
            "{{ ensure_index(this, ['rejection_reason']) }}",
            "{{ ensure_index(this, ['transaction_id'], method='hash') }}",
            "{{ ensure_index(this, ['batch_id']) }}",
        ]
    )
}}

with

checks as (

    select * from {{ ref('silver_transaction_checks') }}

),

rejected as (

    select * from checks
    where not is_valid
    {% if is_incremental() %}
        -- rows above the last rejected raw_id that pass are not inserted, so re-reading them is a no-op
        and raw_id > (select coalesce(max(raw_id), 0) from {{ this }})
    {% endif %}

),

final as (

    select
        raw_id,
        transaction_id,
        rejection_reason,
        rejection_reasons,
        payload,
        source,
        source_file,
        source_row,
        batch_id,
        ingested_at,
        current_timestamp as rejected_at

    from rejected

)

select * from final
