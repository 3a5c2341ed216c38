{{
    config(
        post_hook=[
            "{{ ensure_index(this, ['month_start']) }}",
            "{{ ensure_index(this, ['category']) }}",
        ]
    )
}}

with

transactions as (

    select * from {{ ref('silver_validated_transactions') }}
    where status = 'completed'

),

bounds as (

    select
        max(transaction_date) as last_date,
        max(judged_at) as silver_judged_through

    from {{ ref('silver_validated_transactions') }}

),

monthly as (

    select
        date_trunc('month', transaction_date)::date as month_start,
        category,
        count(*) as transactions,
        sum(quantity) as units,
        sum(amount) as revenue,
        count(distinct basket_id) as baskets

    from transactions
    group by 1, 2

),

with_prior_periods as (

    -- joined by calendar arithmetic, not lag(): a missing month yields null growth instead of
    -- comparing with an older month, and January finds December of the previous year
    select
        monthly.*,
        -- data arrives all month: until it reaches the month's last day, the newest month holds
        -- part of its sales, and growth would read as a drop
        (monthly.month_start + interval '1 month - 1 day')::date <= bounds.last_date
            as is_complete_month,
        bounds.silver_judged_through,
        prior_month.revenue as prior_month_revenue,
        prior_year.revenue as prior_year_revenue

    from monthly
    cross join bounds
    left join monthly as prior_month
        on
            prior_month.category = monthly.category
            and prior_month.month_start = (monthly.month_start - interval '1 month')::date
    left join monthly as prior_year
        on
            prior_year.category = monthly.category
            and prior_year.month_start = (monthly.month_start - interval '1 year')::date

),

final as (

    select
        to_char(month_start, 'YYYY-MM') || '|' || category as summary_key,
        month_start,
        category,
        transactions,
        units,
        revenue,
        baskets,
        round(revenue / nullif(baskets, 0), 2) as avg_basket_value,
        is_complete_month,
        silver_judged_through,
        prior_month_revenue,
        prior_year_revenue,
        case
            when is_complete_month then
                round((revenue - prior_month_revenue) / nullif(prior_month_revenue, 0), 4)
        end as mom_growth,
        case
            when is_complete_month then
                round((revenue - prior_year_revenue) / nullif(prior_year_revenue, 0), 4)
        end as yoy_growth

    from with_prior_periods

)

select * from final
