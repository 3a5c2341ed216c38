{#- Post-hook: make `columns` of `relation` NOT NULL in the database, once per table. A model
    that only copies columns raw already declares NOT NULL (bronze) would otherwise need a
    not_null test per column that can only restate raw's constraint; the constraint itself
    refuses a null at the write instead, costs nothing on later runs (the catalog already says
    NOT NULL, so nothing is altered) and also covers tables built before it existed: those get
    one ALTER TABLE for all their nullable columns, which PostgreSQL checks in a single scan.
    A column added later (on_schema_change) is left alone unless it is listed; a listed column
    that is not in the table fails the build (a renamed column must be renamed here too). -#}
{% macro ensure_not_null(relation, columns) -%}
    do $ensure_not_null$
    declare
        wanted text[] := array[{% for column in columns %}'{{ column }}'{% if not loop.last %}, {% endif %}{% endfor %}];
        missing text;
        alterations text;
    begin
        select string_agg(w, ', ') into missing
        from unnest(wanted) as w
        where not exists (
            select from pg_attribute
            where attrelid = '{{ relation }}'::regclass and attname = w and not attisdropped
        );
        if missing is not null then
            raise exception 'ensure_not_null: {{ relation }} has no column %', missing;
        end if;
        select string_agg(format('alter column %I set not null', attname), ', ') into alterations
        from pg_attribute
        where attrelid = '{{ relation }}'::regclass
          and attname = any(wanted) and not attnotnull and not attisdropped;
        if alterations is not null then
            execute 'alter table {{ relation }} ' || alterations;
        end if;
    end
    $ensure_not_null$
{%- endmacro %}
