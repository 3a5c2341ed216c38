{#- Post-hook: a btree index on `columns` of `relation`, created only when that table has no index
    on exactly those columns yet. The check is by definition, not by name: index names are unique
    per schema, and during a full refresh the old table (renamed to a backup) still holds its
    indexes until dbt drops it, so `create index if not exists <name>` would silently skip. -#}
{% macro ensure_index(relation, columns) -%}
    {%- set column_list = columns | join(', ') -%}
    do $ensure_index$
    begin
        if not exists (
            select 1
            from pg_indexes
            where schemaname = '{{ relation.schema }}'
              and tablename = '{{ relation.identifier }}'
              and indexdef like '%USING btree ({{ column_list }})'
        ) then
            execute 'create index on {{ relation }} ({{ column_list }})';
        end if;
    end
    $ensure_index$
{%- endmacro %}
