{#- Which rows a data test reads: 'batch' (the rows written since it last passed) or 'full' (the
    whole relation).

    The hourly layers (var batch_test_selectors, the hourly job's selector) test the batch, so
    their tests cost what the new data costs; every other run tests everything: the daily
    maintenance (silver+ gold+), `--layer all`, any --full-refresh, any --select. A full refresh
    writes every row with one stamp, so there the batch is the whole table anyway. The var
    test_scope ('auto', 'batch' or 'full') overrides the choice, e.g. a full check of silver now:
        workbench run --layer silver --vars '{"test_scope": "full"}'
    The serve follower's bronze runs (micro-batches after landings) set the environment variable
    WORKBENCH_TEST_SCOPE=batch (workbench.contract.TEST_SCOPE_ENV): their tests read the batch,
    while the daily bronze job, the same command without it, tests whole tables. An env var,
    not a var: --vars would make dbt parse the project in full on every follower run.
    Decided from the invocation's own arguments at run time, so nothing of it is baked into the
    manifest and the pre-parsed one stays valid for every layer; a value other than those three
    stops dbt while it parses, before any node runs. -#}
{% macro test_scope() -%}
    {%- set chosen = var('test_scope') -%}
    {%- if chosen not in ('auto', 'batch', 'full') -%}
        {{ exceptions.raise_compiler_error(
            "var test_scope must be 'auto', 'batch' or 'full'; got '" ~ chosen ~ "'") }}
    {%- endif -%}
    {#- read only while running: an env var read while parsing would be part of the parse -#}
    {%- set asked = env_var('WORKBENCH_TEST_SCOPE', '') if execute else '' -%}
    {%- if asked not in ('', 'auto', 'batch', 'full') -%}
        {{ exceptions.raise_compiler_error(
            "WORKBENCH_TEST_SCOPE must be 'auto', 'batch' or 'full'; got '" ~ asked ~ "'") }}
    {%- endif -%}
    {%- if chosen != 'auto' -%}
        {{ return(chosen) }}
    {%- elif flags.FULL_REFRESH -%}
        {{ return('full') }}
    {%- elif asked in ('batch', 'full') -%}
        {{ return(asked) }}
    {%- elif invocation_args_dict.get('selector') in var('batch_test_selectors') -%}
        {{ return('batch') }}
    {%- else -%}
        {{ return('full') }}
    {%- endif -%}
{%- endmacro %}


{#- The rows of `node` (a model) that are `test`'s batch, as a predicate on the model's own
    columns, from the model's meta `batch`:
      stamp: <column>                  every run stamps the rows it writes with one value (its
                                       transaction's current_timestamp): the rows stamped after
                                       the newest stamp `test` last passed on (its watermark,
                                       batch_watermarks.sql), i.e. every row not yet tested green.
      newer_than: <model>, column: <c> a view read by that model: the rows whose <c> is newer
                                       than the newest that model has read, i.e. the new records
                                       its next run reads. `dbt build` tests a view before
                                       building its children, so a defect stops this run first.
    None when the model declares no batch, or the test has no watermark yet (a new test or
    database), or the model is not built yet: the test reads the whole relation. -#}
{% macro batch_predicate(node, test) -%}
    {%- set batch = node.config.meta.get('batch') -%}
    {%- if not batch -%}
        {{ return(none) }}
    {%- elif batch.get('stamp') -%}
        {%- set passed_through = batch_passed_through(test.unique_id) -%}
        {{ return(none if passed_through is none else batch.stamp ~ ' > ' ~ passed_through) }}
    {%- elif batch.get('newer_than') and batch.get('column') -%}
        {%- set reader = graph.nodes.get('model.' ~ project_name ~ '.' ~ batch.newer_than) -%}
        {%- if not reader -%}
            {{ exceptions.raise_compiler_error(
                node.name ~ ": meta.batch.newer_than names '" ~ batch.newer_than
                ~ "', which is not a model of this project") }}
        {%- endif -%}
        {%- set built = adapter.get_relation(reader.database, reader.schema, reader.alias) -%}
        {%- set read_through = newest_value(reader.relation_name, batch.column) if built else none -%}
        {{ return(none if read_through is none else batch.column ~ ' > ' ~ read_through) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            node.name ~ ": meta.batch needs `stamp`, or `newer_than` and `column`; got " ~ batch) }}
    {%- endif -%}
{%- endmacro %}


{#- The newest value of `column`, read now, as a quoted ISO 8601 literal (none when there is
    none). A literal, not `> (select max(...))`: against a parameter the planner cannot tell how
    many rows qualify and scans the table; against a literal its statistics say "a few" and it
    reads the column's index. -#}
{% macro newest_value(relation_name, column) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select to_json(max(" ~ column ~ ")) #>> '{}' from " ~ relation_name) -%}
    {%- set value = found.columns[0].values()[0] -%}
    {{ return(none if value is none else batch_literal(value)) }}
{%- endmacro %}
