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
        -- batches bronze loaded after the newest one with a rejection (bronze runs one at a time,
        -- so a later batch has a later bronze_loaded_at); re-reading one is a no-op
        and bronze_loaded_at > (
            select coalesce(max(bronze_loaded_at), '-infinity'::timestamptz) from {{ this }}
        )
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
        bronze_loaded_at,
        current_timestamp as rejected_at

    from rejected

)

select * from final
