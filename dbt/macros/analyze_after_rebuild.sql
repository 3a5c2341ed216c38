{#- `analyze` a table the run has just built from scratch (a full refresh, a first build), in
    its own transaction, so PostgreSQL has statistics before the first tests read it. Without
    them the planner guesses a third of the table for `judged_at > '<stamp>'` (a batch-scoped
    test, test_scope.sql) and scans it all, until autovacuum gets round to it: at 10M that
    made the first hourly tests after a full refresh cost 33 s instead of 10. An incremental
    run leaves the statistics alone (autovacuum keeps them; an out-of-range stamp is estimated
    from the index's actual maximum). -#}
{% macro analyze_after_rebuild() -%}
    {%- if execute and config.get('materialized') in ('table', 'incremental') and not is_incremental() -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
