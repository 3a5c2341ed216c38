{#- The seam between silver and gold: per month x category, gold's transactions, units and
    revenue equal silver's completed lines, and no cell is missing on either side. Compared only
    while silver is what this gold build read (gold's silver_judged_through is still silver's
    newest judged_at): a silver run that committed since makes gold stale until the next gold
    run, not wrong. One row per differing cell. -#}
{{ config(tags=['gold']) }}

with

gold as (

    select
        month_start,
        category,
        transactions,
        units,
        revenue,
        silver_judged_through
    from {{ ref('gold_monthly_summary') }}

),

validated as (

    select * from {{ ref('silver_validated_transactions') }}

),

silver as (

    select
        date_trunc('month', transaction_date)::date as month_start,
        category,
        count(*) as transactions,
        sum(quantity) as units,
        sum(amount) as revenue

    from validated
    where status = 'completed'
    group by 1, 2

),

judged_through as (

    select
        (select max(judged_at) from validated) as silver_judged,
        (select max(silver_judged_through) from gold) as gold_read

),

snapshot as (

    select
        coalesce(silver_judged <> gold_read, (silver_judged is null) <> (gold_read is null))
            as gold_is_stale
    from judged_through

),

compared as (

    select
        coalesce(gold.month_start, silver.month_start) as month_start,
        coalesce(gold.category, silver.category) as category,
        gold.transactions as gold_transactions,
        silver.transactions as silver_transactions,
        gold.units as gold_units,
        silver.units as silver_units,
        gold.revenue as gold_revenue,
        silver.revenue as silver_revenue

    from gold
    full outer join silver
        on
            silver.month_start = gold.month_start
            and silver.category = gold.category

)

select compared.*
from compared
cross join snapshot
where
    not snapshot.gold_is_stale
    and (
        compared.gold_transactions is distinct from compared.silver_transactions
        or compared.gold_units is distinct from compared.silver_units
        or compared.gold_revenue is distinct from compared.silver_revenue
    )
