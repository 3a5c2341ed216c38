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
        ]
    )
}}

with

-- Read twice below. "not materialized" and the array (one value computed before the scan, not a
-- join) let PostgreSQL push each filter down to bronze's indexes (raw_id, transaction_id)
-- instead of validating every bronze record on an incremental run.
checks as not materialized (

    select * from {{ ref('silver_transaction_checks') }}

),

{% if is_incremental() %}
new_transaction_ids as (

    -- Valid versions that bronze loaded since the last run. bronze runs one at a time, so a
    -- batch silver has not seen has a later bronze_loaded_at than every batch it has (raw_id
    -- is no watermark: a late-committing landing gets raw_ids below it). An invalid version
    -- can never win, so it never reopens a transaction.
    select distinct transaction_id
    from checks
    where is_valid
        and bronze_loaded_at > (
            select coalesce(max(last_bronze_loaded_at), '-infinity'::timestamptz)
            from {{ this }}
        )

),
{% endif %}

valid_versions as (

    -- all valid versions of each transaction in scope, old batches included, so the winner is
    -- right across batches
    select * from checks
    where is_valid
    {% if is_incremental() %}
        -- left(…, 64) is bronze's btree index on the id; every valid id fits in 64 characters
        and left(transaction_id, 64) = any(array(select transaction_id from new_transaction_ids))
    {% endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by transaction_id
            order by updated_at desc nulls last, ingested_at desc, raw_id desc
        ) as version_rank,
        count(*) over (partition by transaction_id) as version_count,
        max(raw_id) over (partition by transaction_id) as latest_version_raw_id,
        max(bronze_loaded_at) over (partition by transaction_id) as last_bronze_loaded_at

    from valid_versions

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
        unit_price::numeric(14, 2) as unit_price,
        amount::numeric(14, 2) as amount,
        payment_method,
        status,
        customer_id,
        updated_at,
        raw_id,
        version_count::integer as version_count,
        latest_version_raw_id,
        last_bronze_loaded_at,
        ingested_at,
        current_timestamp as validated_at

    from ranked
    where version_rank = 1

)

select * from final
