{#- test_failures.<model>: one view per model over the stored failures of every test attached to
    it, so `select * from test_failures.silver_validated_transactions` lists that model's failing
    rows (dbt itself stores one table per test). Columns: test_name, failure_table, failing_row
    (the stored row as jsonb) and stored_at (when the dbt invocation that stored it started).

    Run as the project's on-run-end hook, so every dbt invocation (dbt run / test / build, or
    workbench run) leaves the views matching the failure tables. A test belongs to the model it
    is defined on (attached_node) or, for a singular test, to every model it reads. A table is
    included only if it exists when the hook runs; dbt drops and recreates a failure table (with
    CASCADE, which drops the views) whenever the test runs again, and the hook recreates them.
    Each view is replaced in its own sub-block: a table dropped by a concurrent run meanwhile
    costs a warning and that one view, never the invocation. -#}
{% macro failing_rows_views(results) %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set tests_of = {} -%}
    {%- set failure_schemas = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' -%}
        {%- if node.schema not in failure_schemas -%}
            {%- do failure_schemas.append(node.schema) -%}
        {%- endif -%}
        {%- set owners = [node.attached_node] if node.get('attached_node') else node.depends_on.nodes -%}
        {%- for owner in owners if owner.startswith('model.') -%}
            {%- do tests_of.setdefault(owner, []).append(node) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if failure_schemas | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set default_schema = failure_schemas[0] -%}
    {%- set stored_now = [] -%}
    {%- for result in results if result.node.resource_type == 'test' and result.status in ('pass', 'fail', 'warn') -%}
        {%- do stored_now.append(result.node.schema ~ '.' ~ result.node.alias) -%}
    {%- endfor -%}
do $failing_rows$
declare
    parts text[];
    stamp text;
begin
    -- Two runs ending at once (bronze and gold hold different layer locks) take turns here.
    perform pg_advisory_xact_lock({{ failing_rows_lock_key() }});
    {%- for name in stored_now %}
    if to_regclass({{ failing_rows_literal(adapter.quote(name.split('.')[0]) ~ '.' ~ adapter.quote(name.split('.')[1])) }}) is not null then
        comment on table {{ adapter.quote(name.split('.')[0]) }}.{{ adapter.quote(name.split('.')[1]) }} is {{ failing_rows_literal(run_started_at.isoformat()) }};
    end if;
    {%- endfor %}
    {%- for model in graph.nodes.values() if model.resource_type == 'model' %}
    {%- set tests = tests_of.get(model.unique_id, []) %}
    {%- set view_schema = tests[0].schema if tests else default_schema %}
    begin
        parts := '{}';
        {%- for test in tests %}
        {%- set table = adapter.quote(test.schema) ~ '.' ~ adapter.quote(test.alias) %}
        if to_regclass({{ failing_rows_literal(table) }}) is not null then
            stamp := obj_description({{ failing_rows_literal(table) }}::regclass, 'pg_class');
            parts := parts || format(
                'select %L::text as test_name, %L::text as failure_table, to_jsonb(f) as failing_row, %L::timestamptz as stored_at from %s as f',
                {{ failing_rows_literal(test.name) }}, {{ failing_rows_literal(test.schema ~ '.' ~ test.alias) }}, stamp, {{ failing_rows_literal(table) }}
            );
        end if;
        {%- endfor %}
        execute format(
            'create or replace view %I.%I as %s',
            {{ failing_rows_literal(view_schema) }},
            {{ failing_rows_literal(model.name) }},
            coalesce(
                array_to_string(parts, ' union all '),
                'select null::text as test_name, null::text as failure_table, null::jsonb as failing_row, null::timestamptz as stored_at where false'
            )
        );
    exception when others then
        raise warning 'test_failures view for % not refreshed: %', {{ failing_rows_literal(model.name) }}, sqlerrm;
    end;
    {%- endfor %}
end
$failing_rows$;
{%- endmacro %}

{#- A SQL string literal (quotes doubled). -#}
{% macro failing_rows_literal(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{#- Any stable 64-bit number, distinct from the runner's layer locks and the raw DDL lock. -#}
{% macro failing_rows_lock_key() %}7361904122002{% endmacro %}
