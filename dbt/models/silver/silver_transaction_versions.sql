{#- The fate of every bronze transaction version, one row per raw_id: the winner of its
    transaction_id (validated), superseded by a newer valid version, or rejected with its reasons.
    silver_validated_transactions and silver_rejected_transactions are read from here, so a
    version is in exactly one place by construction (raw_id is the primary key).

    An incremental run judges again every version of the transactions in scope and rewrites
    their rows (delete+insert on raw_id). In scope: the transactions with a version bronze loaded
    since the last run, and the pending rejections — reasons that depend on the catalog or the
    business day (rejudged_reasons()). So the cost follows new rows + pending rejections, never
    bronze, and the result equals a full rebuild. Only versions whose fate changed are written:
    a run without new data changes no row, and judged_at says when a fate last changed. -#}
{{
    config(
        unique_key='raw_id',
        post_hook=[
            "{{ ensure_index(this, ['bronze_loaded_at']) }}",
            "{{ ensure_index(this, ['judged_at']) }}",
            "{{ ensure_index(this, ['raw_id'], name='pending', where='is_pending') }}",
            "{{ ensure_index(this, ['transaction_id'], method='hash') }}",
            "{{ ensure_index(this, ['rejection_reason'], name='rejected_reason', where=\"fate = 'rejected'\") }}",
            "{{ ensure_index(this, ['batch_id'], name='rejected_batch', where=\"fate = 'rejected'\") }}",
        ]
    )
}}

with

-- Read twice below. "not materialized" and the arrays (values computed before the scan, not
-- joins) let PostgreSQL push each filter down to bronze's indexes (bronze_loaded_at, raw_id,
-- left(transaction_id, 64)) instead of validating every bronze record on an incremental run.
checks as not materialized (

    select * from {{ ref('silver_transaction_checks') }}

),

{% if is_incremental() %}
touched as (

    -- Versions bronze loaded since the last run. bronze runs one at a time, so a batch silver
    -- has not seen has a later bronze_loaded_at than every batch it has (raw_id is no watermark:
    -- a late-committing landing gets raw_ids below it).
    select
        raw_id,
        transaction_id
    from checks
    where
        bronze_loaded_at > (
            select coalesce(max(loaded.bronze_loaded_at), '-infinity'::timestamptz)
            from {{ this }} as loaded
        )

    union all

    -- Rejections that depend on the catalog or the business day: judged again on every run.
    select
        raw_id,
        transaction_id
    from {{ this }}
    where is_pending

),
{% endif %}

in_scope as (

    select * from checks
    {% if is_incremental() %}
    -- every version of each touched transaction, old batches included, so the winner is right
    -- across batches; left(…, 64) is bronze's btree index on the id (every valid id fits)
    where
        left(transaction_id, 64) = any(array(
            select distinct left(touched.transaction_id, 64) from touched
            where touched.transaction_id is not null
        ))

    union all

    -- a version without a transaction_id is a transaction of its own
    select * from checks
    where
        transaction_id is null
        and raw_id = any(array(
            select touched.raw_id from touched
            where touched.transaction_id is null
        ))
    {% endif %}

),

ranked as (

    select
        *,
        case when is_valid then row_number() over (
            partition by transaction_id, is_valid
            order by updated_at desc nulls last, ingested_at desc, raw_id desc
        ) end as version_rank,
        count(*) filter (where is_valid) over (partition by transaction_id) as version_count,
        max(raw_id) filter (where is_valid) over (
            partition by transaction_id
        ) as latest_version_raw_id,
        max(bronze_loaded_at) filter (where is_valid) over (
            partition by transaction_id
        ) as last_bronze_loaded_at

    from in_scope

),

judged as (

    select
        raw_id,
        transaction_id,
        case
            when not is_valid then 'rejected'
            when version_rank = 1 then 'winner'
            else 'superseded'
        end as fate,
        rejection_reasons,
        rejection_reason,
        not is_valid and rejection_reasons && {{ rejudged_reasons() }} as is_pending,
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
        case when is_valid then version_count::integer end as version_count,
        case when is_valid then latest_version_raw_id end as latest_version_raw_id,
        case when is_valid then last_bronze_loaded_at end as last_bronze_loaded_at,
        -- a rejected version keeps its payload here (what the rejected view shows); bronze has
        -- everyone's
        case when not is_valid then payload end as payload,
        source,
        source_file,
        source_row,
        batch_id,
        ingested_at,
        bronze_loaded_at,
        current_timestamp as judged_at

    from ranked

),

final as (

    select judged.*
    from judged
    {% if is_incremental() %}
    left join {{ this }} as previous
        on previous.raw_id = judged.raw_id
    -- the payload is the same for a raw_id, so these are all a new judgment can change
    where
        previous.raw_id is null
        or (
            previous.fate,
            previous.rejection_reasons,
            previous.version_count,
            previous.latest_version_raw_id,
            previous.last_bronze_loaded_at
        ) is distinct from (
            judged.fate,
            judged.rejection_reasons,
            judged.version_count,
            judged.latest_version_raw_id,
            judged.last_bronze_loaded_at
        )
    {% endif %}

)

select * from final
