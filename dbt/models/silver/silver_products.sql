{#- Incremental rather than a plain table on purpose: dbt-postgres swaps a rebuilt table in and
    drops the old one with CASCADE, which would silently drop the platinum views that read this
    model on every silver run. Each run rebuilds, from all their versions, only the products that
    received a new version, so the result equals a full rebuild. -#}
{{
    config(
        unique_key='product_id',
        post_hook=[
            "{{ ensure_index(this, ['category']) }}",
            "{{ ensure_index(this, ['brand'], method='hash') }}",
        ]
    )
}}

with

source as (

    select * from {{ ref('bronze_products') }}

),

category_mapping as (

    {{ accepted_category_mapping() }}

),

renamed as (

    select
        raw_id,
        ingested_at,
        bronze_loaded_at,
        {{ json_text('payload', 'product_id') }} as product_id,
        {{ json_text('payload', 'product_name') }} as product_name_text,
        {{ json_text('payload', 'brand') }} as brand_text,
        {{ json_text('payload', 'category') }} as category_text,
        {{ json_text('payload', 'unit_price') }} as unit_price_text,
        {{ json_text('payload', 'is_active') }} as is_active_text,
        {{ json_text('payload', 'updated_at') }} as updated_at_text

    from source

),

{% if is_incremental() %}
changed_products as (

    -- products with a version bronze loaded since the last run (bronze runs one at a time, so
    -- a later batch has a later bronze_loaded_at; raw_id is no watermark for late commits)
    select distinct product_id
    from renamed
    where bronze_loaded_at > (
        select coalesce(max(loaded.last_bronze_loaded_at), '-infinity'::timestamptz)
        from {{ this }} as loaded
    )

),
{% endif %}

typed as (

    select
        raw_id,
        ingested_at,
        bronze_loaded_at,
        product_id,
        {{ standardised_name('product_name_text') }} as product_name,
        {{ standardised_name('brand_text') }} as brand,
        category_text as raw_category,
        {{ category_key('category_text') }} as category_key,
        {{ safe_decimal('unit_price_text') }} as unit_price,
        {{ safe_boolean('is_active_text') }} as is_active,
        {{ safe_timestamptz('updated_at_text') }} as updated_at

    from renamed
    -- an oversized id is no product id (and would not fit the primary key's btree); such
    -- catalog records stay in bronze_products
    where
        product_id is not null
        and length(product_id) <= {{ var('max_identifier_length') }}
    {% if is_incremental() %}
    and product_id in (select changed_products.product_id from changed_products)
    {% endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by product_id
            order by updated_at desc nulls last, ingested_at desc, raw_id desc
        ) as version_rank,
        count(*) over (partition by product_id) as version_count,
        max(raw_id) over (partition by product_id) as latest_raw_id,
        max(bronze_loaded_at) over (partition by product_id) as last_bronze_loaded_at

    from typed

),

final as (

    select
        ranked.product_id,
        ranked.product_name,
        ranked.brand,
        category_mapping.category,
        ranked.raw_category,
        -- a catalog price that is not a positive decimal is unknown, not zero
        case when ranked.unit_price > 0 then ranked.unit_price end::numeric(14, 2) as unit_price,
        ranked.is_active,
        ranked.updated_at,
        ranked.version_count::integer as version_count,
        ranked.raw_id,
        ranked.latest_raw_id,
        ranked.last_bronze_loaded_at

    from ranked
    left join category_mapping
        on category_mapping.raw_category = ranked.category_key
    where ranked.version_rank = 1

)

select * from final
