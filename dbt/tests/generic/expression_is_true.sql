{#- Fails on every row for which the SQL boolean `expression` is not true (false or null).
    Works on a model or on a column (the column is then only where the test is declared). -#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not coalesce(({{ expression }}), false)

{% endtest %}
