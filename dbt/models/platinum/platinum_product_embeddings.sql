with

products as (

    select * from {{ ref('silver_products') }}

),

described as (

    select
        product_id,
        product_name,
        brand,
        category,
        is_active,
        -- name, brand and the standard category only (never a producer's alias for it)
        concat_ws(
            ', ',
            coalesce(product_name, product_id),
            'by ' || brand,
            'in ' || category
        ) as embedding_text

    from products

),

final as (

    select
        *,
        md5(embedding_text) as text_hash

    from described

)

select * from final
