{#- Post-hook: a btree index on `columns` (column names or parenthesised expressions) of
    `relation`, created once per table. The name ends in the table's OID: index names are unique
    per schema, and during a full refresh the old table (renamed to a backup until dbt drops it)
    still holds its indexes, so a fixed name would make `if not exists` skip the new table.
    `name` shortens the index name for expression indexes; `where` makes a partial index (give
    it a name too, unlike the full index on the same columns). `method='hash'` is for free text
    that producers control: a btree entry holds at most ~2.7 kB and one oversized value would
    fail the whole model, while a hash index stores only a 4-byte hash and still serves equality joins. -#}
{% macro ensure_index(relation, columns, name=none, method='btree', where=none) -%}
    {%- set slug = name if name is not none else columns | join('_') -%}
    do $ensure_index$
    begin
        execute format(
            'create index if not exists %I on {{ relation }} using {{ method }} ({{ columns | join(", ") | replace("'", "''") }}){% if where is not none %} where {{ where | replace("'", "''") }}{% endif %}',
            left('{{ relation.identifier }}_{{ slug }}', 48) || '_' || '{{ relation }}'::regclass::oid
        );
    end
    $ensure_index$
{%- endmacro %}


{#- Post-hook: drop the index ensure_index(relation, ..., name=slug) created, if it is there
    (retiring an index that older versions of a model created). -#}
{% macro drop_index_named(relation, slug) -%}
    do $drop_index$
    begin
        execute format(
            'drop index if exists %I.%I',
            '{{ relation.schema }}',
            left('{{ relation.identifier }}_{{ slug }}', 48) || '_' || '{{ relation }}'::regclass::oid
        );
    end
    $drop_index$
{%- endmacro %}
