{#- Fails on every row dated after today where the stores are (business_today()). -#}
{% test not_in_future(model, column_name) %}

select {{ column_name }}
from {{ model }}
where {{ column_name }} > {{ business_today() }}

{% endtest %}
