{#- Stops a run before any node when a selected model reads a seed that was never loaded and
    this invocation does not load it (`dbt run` on an empty database: the seeds come from
    `dbt seed` or `dbt build`). Without it the first silver model fails with `relation
    "silver.category_mapping" does not exist`, which names the symptom, not the step. -#}
{% macro require_seeds() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set missing = [] -%}
    {%- for unique_id in selected_resources if unique_id in graph.nodes -%}
        {%- for parent_id in graph.nodes[unique_id].depends_on.nodes
            if parent_id.startswith('seed.') and parent_id not in selected_resources -%}
            {%- set seed = graph.nodes[parent_id] -%}
            {%- if seed.name not in missing
                and adapter.get_relation(seed.database, seed.schema, seed.alias) is none -%}
                {%- do missing.append(seed.name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            "the seed" ~ ("s " if missing | length > 1 else " ") ~ (missing | sort | join(', '))
            ~ " " ~ ("are" if missing | length > 1 else "is") ~ " not loaded in this database, and the"
            ~ " selected models read " ~ ("them" if missing | length > 1 else "it")
            ~ ": run `dbt seed` once (or `dbt build`, which loads seeds first)") }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
