{#- The rejection reasons that depend on something outside the record: catalog membership
    (`unknown_product`: the product may land later) and the business day (`future_date`: the day
    comes). A rejected version with any of them is pending: every incremental run judges it
    again, so it moves to validated on the first run after it becomes valid. Every other reason
    depends only on the record and stays until a new version arrives. -#}
{% macro rejudged_reasons() -%}
    array['unknown_product', 'future_date']::text[]
{%- endmacro %}
