{#- Casts that never raise: a regular expression (and, for calendar values, a day-of-month check)
    guards every cast, and CASE guarantees the guard is evaluated first. -#}

{% macro is_integer_text(text) -%}
    coalesce({{ text }} ~ '^[+-]?[0-9]{1,9}$', false)
{%- endmacro %}

{% macro safe_integer(text) -%}
    case when {{ is_integer_text(text) }} then ({{ text }})::integer end
{%- endmacro %}

{#- Plain decimals only (no exponent), at most 12 integer digits so numeric(14, 2) fits. Rounded to
    cents here, so every rule (positive, amount = quantity x unit_price) judges the stored value. -#}
{% macro is_decimal_text(text) -%}
    coalesce({{ text }} ~ '^[+-]?([0-9]{1,12}(\.[0-9]*)?|\.[0-9]+)$', false)
{%- endmacro %}

{% macro safe_decimal(text) -%}
    case when {{ is_decimal_text(text) }} then round(({{ text }})::numeric, 2) end
{%- endmacro %}

{#- YYYY-MM-DD that names a real calendar day (2024-02-30 is not one). -#}
{% macro is_iso_date_text(text) -%}
    coalesce(
        case
            when {{ text }} ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
                and left({{ text }}, 4) <> '0000'
            then substr({{ text }}, 9, 2)::integer <= extract(day from (
                make_date(left({{ text }}, 4)::integer, substr({{ text }}, 6, 2)::integer, 1)
                + interval '1 month - 1 day'))
        end,
        false
    )
{%- endmacro %}

{% macro safe_date(text) -%}
    case when {{ is_iso_date_text(text) }} then ({{ text }})::date end
{%- endmacro %}

{#- ISO 8601 timestamp: a valid date, optional time (T or space) and optional zone (Z, +08, +08:00;
    PostgreSQL refuses offsets beyond 15:59). -#}
{% macro is_iso_timestamp_text(text) -%}
    coalesce(
        case
            when {{ text }} ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?)?(Z|z|[+-](0[0-9]|1[0-5])(:?[0-5][0-9])?)?$'
            then {{ is_iso_date_text('left(' ~ text ~ ', 10)') }}
        end,
        false
    )
{%- endmacro %}

{#- A value without a zone is read as UTC, whatever the session's or the server's time zone is:
    a server set to Asia/Manila must not pick other winners from the same records. -#}
{% macro safe_timestamptz(text) -%}
    case
        when not {{ is_iso_timestamp_text(text) }} then null
        when substr({{ text }}, 11) ~ '([Zz]|[+-][0-9]{1,2}(:?[0-9]{2})?)$'
        then ({{ text }})::timestamptz
        else ({{ text }})::timestamp at time zone 'UTC'
    end
{%- endmacro %}

{#- JSON true/false, or the usual words for them in any casing. -#}
{% macro is_boolean_text(text) -%}
    coalesce(lower({{ text }}) in ('true', 'false', 't', 'f', 'yes', 'no', 'y', 'n', '1', '0'), false)
{%- endmacro %}

{% macro safe_boolean(text) -%}
    case
        when lower({{ text }}) in ('true', 't', 'yes', 'y', '1') then true
        when lower({{ text }}) in ('false', 'f', 'no', 'n', '0') then false
    end
{%- endmacro %}
