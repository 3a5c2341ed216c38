{{ config(pre_hook="{{ create_product_neighbours() }}") }}
{%- set partners_per_product = 3 %}

with

sales as (

    select * from {{ ref('silver_validated_transactions') }}
    where status = 'completed'

),

products as (

    select * from {{ ref('silver_products') }}

),

neighbours as (

    -- filled by `workbench embed`; empty until then (and on a server without pgvector)
    select * from {{ source('platinum_vectors', 'product_neighbours') }}

),

data_end as (

    -- velocity is measured against the newest sale, so history loaded late still reads right
    select max(transaction_date) as last_sale_date from sales

),

product_sales as (

    select
        sales.product_id,
        count(*) as transactions,
        count(distinct sales.basket_id) as baskets,
        sum(sales.quantity) as units_sold,
        sum(sales.amount) as revenue,
        coalesce(sum(sales.quantity) filter (
            where sales.transaction_date > data_end.last_sale_date - 28
        ), 0) as units_last_28_days,
        coalesce(sum(sales.quantity) filter (
            where
            sales.transaction_date > data_end.last_sale_date - 56
            and sales.transaction_date <= data_end.last_sale_date - 28
        ), 0) as units_prior_28_days

    from sales
    cross join data_end
    group by sales.product_id

),

basket_pairs as (

    select
        basket_line.product_id,
        basket_partner.product_id as partner_product_id,
        count(distinct basket_line.basket_id) as shared_baskets

    from sales as basket_line
    inner join sales as basket_partner
        on
            basket_line.basket_id = basket_partner.basket_id
            and basket_line.product_id <> basket_partner.product_id
    group by basket_line.product_id, basket_partner.product_id

),

ranked_pairs as (

    select
        *,
        row_number() over (
            partition by product_id
            order by shared_baskets desc, partner_product_id asc
        ) as partner_rank

    from basket_pairs

),

partners as (

    select
        product_id,
        array_agg(partner_product_id order by partner_rank) as co_purchase_product_ids,
        array_agg(shared_baskets order by partner_rank) as co_purchase_shared_baskets

    from ranked_pairs
    where partner_rank <= {{ partners_per_product }}
    group by product_id

),

final as (

    select
        products.product_id,
        products.product_name,
        products.brand,
        products.category,
        products.unit_price,
        products.is_active,
        coalesce(product_sales.transactions, 0) as transactions,
        coalesce(product_sales.baskets, 0) as baskets,
        coalesce(product_sales.units_sold, 0) as units_sold,
        coalesce(product_sales.revenue, 0) as revenue,
        rank() over (
            partition by products.category
            order by coalesce(product_sales.units_sold, 0) desc
        ) as popularity_rank_in_category,
        round((percent_rank() over (
            order by coalesce(product_sales.units_sold, 0)
        ))::numeric, 4) as popularity_percentile,
        round(coalesce(product_sales.units_last_28_days, 0) / 28.0, 3) as velocity_units_per_day,
        round(
            (product_sales.units_last_28_days - product_sales.units_prior_28_days)::numeric
            / nullif(product_sales.units_prior_28_days, 0),
            4
        ) as velocity_change,
        case
            when products.unit_price is not null then round((percent_rank() over (
                partition by products.category, products.unit_price is null
                order by products.unit_price
            ))::numeric, 4)
        end as price_percentile_in_category,
        case
            when products.unit_price is null then null
            when percent_rank() over (
                partition by products.category, products.unit_price is null
                order by products.unit_price
            ) < 1.0 / 3 then 'budget'
            when percent_rank() over (
                partition by products.category, products.unit_price is null
                order by products.unit_price
            ) < 2.0 / 3 then 'mid-range'
            else 'premium'
        end as price_position,
        coalesce(partners.co_purchase_product_ids, '{}'::text []) as co_purchase_product_ids,
        coalesce(partners.co_purchase_shared_baskets, '{}'::bigint []) as co_purchase_shared_baskets,
        coalesce(neighbours.similar_product_ids, '{}'::text []) as similar_product_ids,
        coalesce(neighbours.similarity_scores, '{}'::real []) as similarity_scores,
        neighbours.model_id as similarity_model_id

    from products
    left join product_sales
        on product_sales.product_id = products.product_id
    left join partners
        on partners.product_id = products.product_id
    left join neighbours
        on neighbours.product_id = products.product_id

)

select * from final
