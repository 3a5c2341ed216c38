{#- Fails when the newest value of `column_name` is older than `interval` (a PostgreSQL interval,
    e.g. '1 day'), or when the model is empty. A question about the whole table: meta
    whole_table tells get_where_subquery never to narrow it to the run's batch (an hourly batch
    with no new row would otherwise have no newest value at all). -#}
{% test recency(model, column_name, interval='1 day') %}
{{ config(meta={'whole_table': true}) }}

with

latest as (

    select max({{ column_name }}) as latest_value from {{ model }}

)

select latest_value
from latest
where latest_value is null
    or latest_value < current_timestamp - interval '{{ interval }}'

{% endtest %}
