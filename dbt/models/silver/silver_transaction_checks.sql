{#- One row per bronze transaction record: the payload read into typed columns (never raising on
    hostile values) and every rule it breaks. A view, so both silver tables read the same rules and
    each applies its own incremental filter, which PostgreSQL pushes down to bronze. -#}
{{ config(materialized='view') }}

with

source as (

    select * from {{ ref('bronze_transactions') }}

),

products as (

    select product_id from {{ ref('silver_products') }}

),

category_mapping as (

    {{ accepted_category_mapping() }}

),

renamed as (

    select
        raw_id,
        payload,
        source,
        source_file,
        source_row,
        batch_id,
        ingested_at,
        bronze_loaded_at,
        coalesce(jsonb_typeof(payload) = 'object', false) as is_object,
        {{ json_text('payload', 'transaction_id') }} as transaction_id,
        {{ json_text('payload', 'transaction_date') }} as transaction_date_text,
        {{ json_text('payload', 'store_id') }} as store_id,
        {{ json_text('payload', 'product_id') }} as product_id,
        {{ json_text('payload', 'basket_id') }} as basket_id,
        {{ json_text('payload', 'category') }} as category_text,
        {{ json_text('payload', 'quantity') }} as quantity_text,
        {{ json_text('payload', 'unit_price') }} as unit_price_text,
        {{ json_text('payload', 'amount') }} as amount_text,
        {{ json_text('payload', 'payment_method') }} as payment_method_text,
        {{ json_text('payload', 'status') }} as status_text,
        {{ json_text('payload', 'customer_id') }} as customer_id,
        {{ json_text('payload', 'updated_at') }} as updated_at_text

    from source

),

typed as (

    select
        renamed.*,
        {{ safe_date('renamed.transaction_date_text') }} as transaction_date,
        {{ safe_integer('renamed.quantity_text') }} as quantity,
        {{ safe_decimal('renamed.unit_price_text') }} as unit_price,
        {{ safe_decimal('renamed.amount_text') }} as amount,
        {{ safe_timestamptz('renamed.updated_at_text') }} as updated_at,
        {{ normalised_enum('renamed.payment_method_text') }} as payment_method,
        {{ normalised_enum('renamed.status_text') }} as status,
        category_mapping.category,
        products.product_id is not null as is_known_product

    from renamed
    left join category_mapping
        on category_mapping.raw_category = {{ category_key('renamed.category_text') }}
    left join products
        on products.product_id = renamed.product_id

),

checked as (

    select
        *,
        case
            -- nothing can be read from an array or a scalar
            when not is_object then array['invalid_type']
            else array_remove(array[
                case when transaction_id is null then 'missing_transaction_id' end,
                case
                    when
                        (transaction_date_text is not null and transaction_date is null)
                        or (quantity_text is not null and quantity is null)
                        or (unit_price_text is not null and unit_price is null)
                        or (amount_text is not null and amount is null)
                        or (updated_at_text is not null and updated_at is null)
                        -- identifiers are short strings; an oversized one is not an id (and
                        -- would not fit the btree indexes silver keeps on them)
                        or length(transaction_id) > {{ var('max_identifier_length') }}
                        or length(store_id) > {{ var('max_identifier_length') }}
                        or length(product_id) > {{ var('max_identifier_length') }}
                        or length(basket_id) > {{ var('max_identifier_length') }}
                        or length(customer_id) > {{ var('max_identifier_length') }}
                        then 'invalid_type'
                end,
                case
                    when
                        transaction_date_text is null
                        or store_id is null
                        or product_id is null
                        or basket_id is null
                        or quantity_text is null
                        or unit_price_text is null
                        or amount_text is null
                        or payment_method_text is null
                        or status_text is null
                        then 'missing_required_field'
                end,
                case
                    when
                        payment_method not in ('cash', 'gcash', 'maya', 'card')
                        or status not in ('completed', 'refunded', 'voided')
                        then 'invalid_enum'
                end,
                case when category is null then 'unknown_category' end,
                case
                    when quantity <= 0 or unit_price <= 0 or amount <= 0
                        then 'non_positive_amount'
                end,
                case when transaction_date > {{ business_today() }} then 'future_date' end,
                case
                    when transaction_date < date '{{ var("earliest_business_date") }}'
                        then 'before_earliest_date'
                end,
                case
                    when product_id is not null and not is_known_product
                        then 'unknown_product'
                end,
                case
                    when abs(amount - quantity * unit_price) > {{ var('amount_tolerance') }}
                        then 'amount_mismatch'
                end
            ], null)
        end as rejection_reasons

    from typed

),

final as (

    select
        raw_id,
        transaction_id,
        transaction_date,
        store_id,
        product_id,
        basket_id,
        category,
        category_text as raw_category,
        quantity,
        unit_price,
        amount,
        payment_method,
        status,
        customer_id,
        updated_at,
        rejection_reasons,
        rejection_reasons[1] as rejection_reason,
        cardinality(rejection_reasons) = 0 as is_valid,
        payload,
        source,
        source_file,
        source_row,
        batch_id,
        ingested_at,
        bronze_loaded_at

    from checked

)

select * from final
