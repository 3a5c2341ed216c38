{#- Reading producer payloads safely. Every macro here returns NULL (never raises) for values that
    cannot be read, so hostile payloads become rejections instead of failed runs. -#}

{#- The trimmed text of one key of a JSON object; NULL when the payload is not an object, the key
    is missing, or the value is blank. -#}
{% macro json_text(payload, key) -%}
    nullif(btrim(case when jsonb_typeof({{ payload }}) = 'object' then {{ payload }} ->> '{{ key }}' end, E' \t\r\n'), '')
{%- endmacro %}

{#- Lower-cased, trimmed text for enum comparisons ("GCash " -> "gcash"). -#}
{% macro normalised_enum(text) -%}
    lower({{ text }})
{%- endmacro %}

{#- The key used to look a producer's category up in the category_mapping seed. -#}
{% macro category_key(text) -%}
    lower(regexp_replace(btrim({{ text }}, E' \t\r\n'), '\s+', ' ', 'g'))
{%- endmacro %}

{#- Names as people write them: trimmed, inner whitespace collapsed, title case. -#}
{% macro standardised_name(text) -%}
    initcap(regexp_replace(btrim({{ text }}, E' \t\r\n'), '\s+', ' ', 'g'))
{%- endmacro %}
