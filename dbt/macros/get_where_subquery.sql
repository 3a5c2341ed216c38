{#- Overrides dbt's get_where_subquery (the relation every generic test reads): a test's own
    `where` config as dbt has it, and, when the run tests the batch (test_scope()), only the rows
    of the tested model (or source) written since the test last passed (batch_predicate()). A
    test whose meta says whole_table (recency: how new is the newest row) always reads the whole
    model.
    A `unique` test on a model whose meta.batch says `unique: whole_table` (bronze) reads every
    row that shares a key with the batch, not the batch alone: a new row that repeats an old
    row's key (bronze appending a raw row twice) is a duplicate the batch alone would not show.
    The keys are looked up through the model's index on the column (bronze: raw_id): as
    `= any(array(...))`, an index scan per key, where `in (select ...)` let the planner hash the
    whole table once the batch is a few hundred rows. -#}
{% macro get_where_subquery(relation) -%}
    {%- set predicates = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do predicates.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set whole_table = (config.get('meta') or {}).get('whole_table', false) -%}
    {%- if execute and not whole_table and test_scope() == 'batch' -%}
        {%- set tested = tested_node(model) -%}
        {%- set batch = batch_predicate(tested, model) if tested else none -%}
        {%- set key = model.get('column_name') if (model.get('test_metadata') or {}).get('name') == 'unique' else none -%}
        {%- if batch and key and tested.config.meta.get('batch', {}).get('unique') == 'whole_table' -%}
            {%- do predicates.append(
                '(' ~ key ~ ' = any(array(select ' ~ key ~ ' from ' ~ relation ~ ' where ' ~ batch ~ ')))') -%}
        {%- elif batch -%}
            {%- do predicates.append('(' ~ batch ~ ')') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if predicates -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ predicates | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{#- The model or source a generic test is attached to (a source test has no attached_node: its
    one parent is the source), or none. -#}
{% macro tested_node(test) -%}
    {%- if test.get('attached_node') -%}
        {{ return(graph.nodes.get(test.attached_node)) }}
    {%- endif -%}
    {%- set parents = test.get('depends_on', {}).get('nodes', []) -%}
    {%- if parents | length == 1 and parents[0].startswith('source.') -%}
        {{ return(graph.sources.get(parents[0])) }}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}
