{#- Which rows a data test reads: 'batch' (the rows the latest run of its model wrote) or 'full'
    (the whole relation).

    The hourly layers (var batch_test_selectors, the hourly job's selector) test the batch, so
    their tests cost what the new data costs; every other run tests everything: the daily
    maintenance (silver+ gold+), `--layer all`, any --full-refresh, any --select. A full refresh
    writes every row with one stamp, so there the batch is the whole table anyway. The var
    test_scope ('auto', 'batch' or 'full') overrides the choice, e.g. a full check of silver now:
        workbench run --layer silver --vars '{"test_scope": "full"}'
    Decided from the invocation's own arguments at run time, so nothing of it is baked into the
    manifest and the pre-parsed one stays valid for every layer; a value other than those three
    stops dbt while it parses, before any node runs. -#}
{% macro test_scope() -%}
    {%- set chosen = var('test_scope') -%}
    {%- if chosen not in ('auto', 'batch', 'full') -%}
        {{ exceptions.raise_compiler_error(
            "var test_scope must be 'auto', 'batch' or 'full'; got '" ~ chosen ~ "'") }}
    {%- endif -%}
    {%- if chosen != 'auto' -%}
        {{ return(chosen) }}
    {%- elif flags.FULL_REFRESH -%}
        {{ return('full') }}
    {%- elif invocation_args_dict.get('selector') in var('batch_test_selectors') -%}
        {{ return('batch') }}
    {%- else -%}
        {{ return('full') }}
    {%- endif -%}
{%- endmacro %}


{#- The rows of `node` (a model) that are this run's batch, as a predicate on its own columns,
    from the model's meta `batch`:
      stamp: <column>                  every run stamps the rows it writes with one value (its
                                       transaction's current_timestamp): the rows carrying the
                                       newest stamp. Its tests run right after it is built, so
                                       that is this run's.
      newer_than: <model>, column: <c> a view read by that model: the rows whose <c> is newer
                                       than the newest that model has read, i.e. what its next
                                       run reads. `dbt build` tests a view before building its
                                       children, so these are the rows this run is about to judge.
    None when the model declares no batch, or nothing is stamped yet: its tests read the whole
    relation. -#}
{% macro batch_predicate(node) -%}
    {%- set batch = node.config.meta.get('batch') -%}
    {%- if not batch -%}
        {{ return(none) }}
    {%- elif batch.get('stamp') -%}
        {{ return(latest_stamp_predicate(node.relation_name, batch.stamp)) }}
    {%- elif batch.get('newer_than') and batch.get('column') -%}
        {%- set reader = graph.nodes.get('model.' ~ project_name ~ '.' ~ batch.newer_than) -%}
        {%- if not reader -%}
            {{ exceptions.raise_compiler_error(
                node.name ~ ": meta.batch.newer_than names '" ~ batch.newer_than
                ~ "', which is not a model of this project") }}
        {%- endif -%}
        {%- set built = adapter.get_relation(reader.database, reader.schema, reader.alias) -%}
        {%- set read_through = latest_stamp(reader.relation_name, batch.column) if built else none -%}
        {{ return(none if read_through is none else batch.column ~ " > '" ~ read_through ~ "'") }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            node.name ~ ": meta.batch needs `stamp`, or `newer_than` and `column`; got " ~ batch) }}
    {%- endif -%}
{%- endmacro %}


{#- `column = '<its newest value>'`, the value read now and written as a literal: a stamp has a
    handful of distinct values, so against a parameter (= (select max(...))) the planner expects
    a fifth of the table and scans it all; against a literal its statistics say "a few rows" and
    it reads the column's index. None when the relation has no stamped row. -#}
{% macro latest_stamp_predicate(relation_name, column) -%}
    {%- set latest = latest_stamp(relation_name, column) -%}
    {{ return(none if latest is none else column ~ " = '" ~ latest ~ "'") }}
{%- endmacro %}


{% macro latest_stamp(relation_name, column) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query('select max(' ~ column ~ ')::text from ' ~ relation_name) -%}
    {{ return(found.columns[0].values()[0]) }}
{%- endmacro %}
