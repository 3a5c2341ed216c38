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

    -- Valid versions that landed since the last run. Every valid version already processed has
    -- raw_id <= latest_version_raw_id of its transaction, so this watermark is exact; an invalid
    -- version can never win, so it never reopens a transaction.
    select distinct transaction_id
    from checks
    where is_valid
        and raw_id > (select coalesce(max(latest_version_raw_id), 0) from {{ this }})

),
{% endif %}

valid_versions as (

    -- all valid versions of each transaction in scope, old batches included, so the winner is
    -- right across batches
    select * from checks
    where is_valid
    {% if is_incremental() %}
        and transaction_id = any(array(select transaction_id from new_transaction_ids))
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
        max(raw_id) over (partition by transaction_id) as latest_version_raw_id

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
        ingested_at,
        current_timestamp as validated_at

    from ranked
    where version_rank = 1

)

select * from final
