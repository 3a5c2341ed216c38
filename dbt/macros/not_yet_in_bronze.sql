{#- Incremental source of the bronze models: the rows of `raw_relation` bronze does not have.
    raw_id is handed out at INSERT, not at COMMIT: a long landing can commit rows below the
    high-water mark after a run has passed it. So besides raw_id > the newest loaded raw_id, rows
    that landed within late_landing_window_hours of the newest loaded one are re-checked, and
    kept when bronze does not have them yet. The rows are exactly those of
        raw_id > M or (ingested_at >= W and not exists (bronze row with that raw_id))
    (M the newest loaded raw_id, W the newest loaded ingested_at less the window), written as
    two disjoint selects (raw_id is never null, so the second is the first's complement) for
    the planner: under an `or` the `not exists` cannot be an anti-join and ran as a hashed
    SubPlan over all of bronze. M and W are read once, before the model runs, and written in
    as literals: against a parameter PostgreSQL cannot estimate how many raw rows qualify and
    guesses a third of the table; against a literal its statistics (or, past them, the newest
    index page) say "the new ones", and it reads raw's BRIN indexes on raw_id and ingested_at.
    Reading them early changes nothing: only this model writes bronze, one run at a time (the
    bronze layer lock), and a raw row committed after the read has raw_id > M or comes next run.
    The `not exists` also bounds bronze by the window (a bronze row carries its raw row's
    ingested_at, and raw rows are never updated, so it drops no match): without it PostgreSQL
    hashed all of bronze for the anti-join. So an incremental run reads raw's new rows and the
    window of raw and bronze, never a whole table. tests/integration/test_bronze_filter_plan.py
    pins the plan. -#}
{% macro not_yet_in_bronze(raw_relation) -%}
    {%- set newest_raw_id = bronze_loaded_through('raw_id') -%}
    {%- set late_from = bronze_loaded_through('late_from') -%}
    select landed.* from {{ raw_relation }} as landed
    where landed.raw_id > {{ newest_raw_id }}
    union all
    select landed.* from {{ raw_relation }} as landed
    where
        landed.raw_id <= {{ newest_raw_id }}
        and landed.ingested_at >= {{ late_from }}::timestamptz
        and not exists (
            select 1 from {{ this }} as loaded
            where
                loaded.raw_id = landed.raw_id
                and loaded.ingested_at >= {{ late_from }}::timestamptz
        )
{%- endmacro %}


{#- bronze_loaded_through('raw_id'): the newest raw_id bronze (`this`) has, 0 when empty;
    bronze_loaded_through('late_from'): the landing time from which raw rows are re-checked (its
    newest ingested_at less late_landing_window_hours; -infinity when empty), a quoted literal.
    Placeholders while dbt parses (and for sqlfluff, which has no database). -#}
{% macro bronze_loaded_through(part) -%}
    {%- set found = none if not execute else run_query(
        "select coalesce(max(raw_id), 0)::text,"
        ~ " to_json(coalesce(max(ingested_at), '-infinity'::timestamptz)"
        ~ " - interval '" ~ var('late_landing_window_hours') ~ " hours') #>> '{}'"
        ~ " from " ~ this) -%}
    {%- set values = found.rows[0] if found is not none else ['0', '-infinity'] -%}
    {%- if part == 'raw_id' -%}
        {{ return(values[0] | int) }}
    {%- else -%}
        {{ return("'" ~ (values[1] | string | replace("'", "''")) ~ "'") }}
    {%- endif -%}
{%- endmacro %}
