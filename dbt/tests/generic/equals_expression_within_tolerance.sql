{#- Fails on every row where `column_name` differs from the SQL `expression` by more than
    `tolerance` (default: the project var amount_tolerance), e.g. amount = quantity * unit_price. -#}
{% test equals_expression_within_tolerance(model, column_name, expression, tolerance=none) %}

{%- set allowed = tolerance if tolerance is not none else var('amount_tolerance') %}

select
    {{ column_name }} as actual_value,
    ({{ expression }}) as expected_value
from {{ model }}
where abs({{ column_name }} - ({{ expression }})) > {{ allowed }}

{% endtest %}
