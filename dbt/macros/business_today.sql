{#- Today's date where the stores are (var business_timezone), not in the session's time zone:
    a UTC session would call a Manila sale made between 00:00 and 08:00 local time "future". -#}
{% macro business_today() -%}
    (now() at time zone '{{ var("business_timezone") }}')::date
{%- endmacro %}
