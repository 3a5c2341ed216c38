{#- The winners of silver_transaction_versions, one row per transaction_id, as a table with an
    enforced contract and the indexes gold and platinum read through (validated_at: the
    recency test's max() reads the index, never the table). Incremental (delete+insert
    on transaction_id): the winners the fate model judged since this table's last run. -#}
{{
    config(
        unique_key='transaction_id',
        post_hook=[
            "{{ ensure_index(this, ['transaction_date']) }}",
            "{{ ensure_index(this, ['product_id']) }}",
            "{{ ensure_index(this, ['store_id']) }}",
            "{{ ensure_index(this, ['basket_id']) }}",
            "{{ ensure_index(this, ['category', 'transaction_date']) }}",
            "{{ ensure_index(this, ['latest_version_raw_id']) }}",
            "{{ ensure_index(this, ['last_bronze_loaded_at']) }}",
            "{{ ensure_index(this, ['judged_at']) }}",
            "{{ ensure_index(this, ['validated_at']) }}",
        ]
    )
}}

with

versions as (

    select * from {{ ref('silver_transaction_versions') }}

),

winners as (

    select * from versions
    where
        fate = 'winner'
    {% if is_incremental() %}
    -- winners whose fate changed since (a new winner, or a new version beside it)
    and judged_at > (
        select coalesce(max(loaded.judged_at), '-infinity'::timestamptz)
        from {{ this }} as loaded
    )
    {% endif %}

),

final as (

    select
        transaction_id,
        transaction_date,
        store_id,
        product_id,
        basket_id,
        category,
        quantity,
        unit_price,
        amount,
        payment_method,
        status,
        customer_id,
        updated_at,
        raw_id,
        version_count,
        latest_version_raw_id,
        last_bronze_loaded_at,
        ingested_at,
        judged_at,
        current_timestamp as validated_at

    from winners

)

select * from final
