{{
    config(
        post_hook=[
            "{{ ensure_index(this, ['week_start']) }}",
            "{{ ensure_index(this, ['category']) }}",
        ]
    )
}}

{%- set window_weeks = var('anomaly_window_weeks') | int %}
{%- set min_history_weeks = var('anomaly_min_history_weeks') | int %}

with

transactions as (

    select * from {{ ref('silver_validated_transactions') }}

),

bounds as (

    select
        date_trunc('week', min(transaction_date))::date as first_week,
        date_trunc('week', max(transaction_date))::date as last_week,
        max(transaction_date) as last_date

    from transactions

),

weeks as (

    select generate_series(first_week, last_week, interval '1 week')::date as week_start
    from bounds

),

categories as (

    select distinct category from transactions

),

weekly as (

    select
        date_trunc('week', transaction_date)::date as week_start,
        category,
        count(*) filter (where status = 'completed') as transactions,
        coalesce(sum(amount) filter (where status = 'completed'), 0) as revenue

    from transactions
    group by 1, 2

),

zero_filled as (

    select
        weeks.week_start,
        categories.category,
        coalesce(weekly.transactions, 0) as transactions,
        coalesce(weekly.revenue, 0) as revenue,
        -- Data arrives continuously, so the newest week is usually still in progress: its
        -- revenue is partial and must not be read as a drop.
        weeks.week_start + 6 <= bounds.last_date as is_complete_week

    from weeks
    cross join bounds
    cross join categories
    left join weekly
        on
            weekly.week_start = weeks.week_start
            and weekly.category = categories.category

),

rolling as (

    select
        *,
        avg(revenue) over previous_weeks as rolling_mean,
        stddev_samp(revenue) over previous_weeks as rolling_stddev,
        count(*) over previous_weeks as history_weeks

    from zero_filled
    window previous_weeks as (
        partition by category
        order by week_start
        rows between {{ window_weeks }} preceding and 1 preceding
    )

),

scored as (

    select
        *,
        -- null until two previous weeks exist (no sample stddev); a flat history divides by the
        -- floor, so a spike after it still scores
        case
            when rolling_stddev is not null
                then
                    (revenue - rolling_mean)
                    / greatest(rolling_stddev, {{ var('anomaly_stddev_floor') }})
        end as z_score

    from rolling

),

final as (

    select
        to_char(week_start, 'YYYY-MM-DD') || '|' || category as trend_key,
        week_start,
        category,
        transactions,
        revenue::numeric(14, 2) as revenue,
        round(rolling_mean, 2) as rolling_mean,
        round(rolling_stddev, 2) as rolling_stddev,
        history_weeks::integer as history_weeks,
        round(z_score, 4) as z_score,
        is_complete_week,
        coalesce(
            is_complete_week
            and history_weeks >= {{ min_history_weeks }}
            and abs(z_score) >= {{ var('anomaly_z_threshold') }},
            false
        ) as is_anomaly

    from scored

)

select * from final
