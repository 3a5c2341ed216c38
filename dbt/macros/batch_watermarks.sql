{#- Where each batch-reading data test last passed: one row per test in
    <test schema>.batch_watermarks, the newest stamp of the relation it reads at the end of the
    invocation in which it passed. On an hourly run a test reads the rows stamped after that
    (test_scope.sql), so its batch is every row not yet tested green:
    - a run that died after writing and before its tests (a killed pod) leaves its rows to the
      next run's tests;
    - a failing test keeps its batch: it stays red on the next runs until the rows are fixed;
    - a run that writes nothing tests nothing new, also after a full refresh.
    A test with no row yet (a new test, a new database) reads the whole relation once. Written
    by the on-run-end hook, created by the on-run-start hook; both take the same advisory lock
    as failing_rows_views, so concurrent runs of different layers take turns. -#}

{% macro batch_watermarks_relation() -%}
    {{- adapter.quote(batch_watermarks_schema()) ~ '.' ~ adapter.quote('batch_watermarks') -}}
{%- endmacro %}


{#- The schema dbt stores test failures in (dbt_project.yml data_tests +schema), from the graph. -#}
{% macro batch_watermarks_schema() -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' -%}
        {{ return(node.schema) }}
    {%- endfor -%}
    {{ return(target.schema) }}
{%- endmacro %}


{% macro create_batch_watermarks() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
do $batch_watermarks$
begin
    perform pg_advisory_xact_lock({{ failing_rows_lock_key() }});
    create schema if not exists {{ adapter.quote(batch_watermarks_schema()) }};
    create table if not exists {{ batch_watermarks_relation() }} (
        test_id text primary key,
        relation text not null,
        stamp_column text not null,
        passed_through text not null,  -- ISO 8601, whatever the session's DateStyle
        recorded_at timestamptz not null default now()
    );
end
$batch_watermarks$
{% endmacro %}


{#- (relation, stamp column) a test's batch is measured on, or none: a generic test on a model
    with meta.batch.stamp, or a singular test whose meta.batch.stamp_of names such a model. -#}
{% macro batch_stamp_of(test) -%}
    {%- set owner = none -%}
    {%- if test.get('attached_node') -%}
        {%- set owner = graph.nodes.get(test.attached_node) -%}
    {%- elif test.config.meta.get('batch', {}).get('stamp_of') -%}
        {%- set owner = graph.nodes.get('model.' ~ project_name ~ '.' ~ test.config.meta.batch.stamp_of) -%}
    {%- endif -%}
    {%- set stamp = owner.config.meta.get('batch', {}).get('stamp') if owner else none -%}
    {{ return((owner.relation_name, stamp) if stamp else none) }}
{%- endmacro %}


{#- The stamp through which `test_id` last passed, as a quoted SQL literal, or none. -#}
{% macro batch_passed_through(test_id) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        'select passed_through from ' ~ batch_watermarks_relation()
        ~ ' where test_id = ' ~ batch_literal(test_id)) -%}
    {%- set values = found.columns[0].values() -%}
    {{ return(batch_literal(values[0]) if values else none) }}
{%- endmacro %}


{% macro batch_literal(text) -%}
    {{- "'" ~ (text | string | replace("'", "''")) ~ "'" -}}
{%- endmacro %}


{% macro record_batch_watermarks(results) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set rows = [] -%}
    {%- for result in results if result.node.resource_type == 'test' and result.status in ('pass', 'warn') -%}
        {%- set source = batch_stamp_of(graph.nodes.get(result.node.unique_id, {})) -%}
        {%- if source -%}
            {%- do rows.append(
                "select " ~ batch_literal(result.node.unique_id) ~ " as test_id, "
                ~ batch_literal(source[0]) ~ " as relation, " ~ batch_literal(source[1]) ~ " as stamp_column, "
                ~ "(select to_json(max(" ~ source[1] ~ ")) #>> '{}' from " ~ source[0] ~ ") as passed_through") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not rows -%}
        {{ return('') }}
    {%- endif -%}
do $batch_watermarks$
begin
    perform pg_advisory_xact_lock({{ failing_rows_lock_key() }});
    insert into {{ batch_watermarks_relation() }} (test_id, relation, stamp_column, passed_through)
    select test_id, relation, stamp_column, passed_through
    from (
        {{ rows | join('\n        union all ') }}
    ) as latest
    where passed_through is not null
    on conflict (test_id) do update set
        relation = excluded.relation,
        stamp_column = excluded.stamp_column,
        passed_through = excluded.passed_through,
        recorded_at = now();
end
$batch_watermarks$
{% endmacro %}
