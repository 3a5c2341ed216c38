{#- Post-hook: make `columns` of `relation` NOT NULL in the database, once per table. A model
    that only copies columns raw already declares NOT NULL (bronze) would otherwise need a
    not_null test per column that can only restate raw's constraint; the constraint itself
    refuses a null at the write instead, costs nothing on later runs (the catalog already says
    NOT NULL, so nothing is altered) and also covers tables built before it existed. -#}
{% macro ensure_not_null(relation, columns) -%}
    do $ensure_not_null$
    declare
        nullable text;
    begin
        for nullable in
            select attname from pg_attribute
            where attrelid = '{{ relation }}'::regclass
              and attname = any(array[{% for column in columns %}'{{ column }}'{% if not loop.last %}, {% endif %}{% endfor %}])
              and not attnotnull and not attisdropped
        loop
            execute format('alter table {{ relation }} alter column %I set not null', nullable);
        end loop;
    end
    $ensure_not_null$
{%- endmacro %}
