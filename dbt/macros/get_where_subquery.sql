{#- Overrides dbt's get_where_subquery (the relation every generic test reads): a test's own
    `where` config as dbt has it, and, when the run tests the batch (test_scope()), only the rows
    of the tested model written since the test last passed (batch_predicate()). A test whose
    meta says whole_table (recency: how new is the newest row) always reads the whole model. -#}
{% macro get_where_subquery(relation) -%}
    {%- set predicates = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do predicates.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set whole_table = (config.get('meta') or {}).get('whole_table', false) -%}
    {%- if execute and model.get('attached_node') and not whole_table and test_scope() == 'batch' -%}
        {%- set tested = graph.nodes.get(model.attached_node) -%}
        {%- set batch = batch_predicate(tested, model) if tested else none -%}
        {%- if batch -%}
            {%- do predicates.append('(' ~ batch ~ ')') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if predicates -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ predicates | join(' and ') ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
