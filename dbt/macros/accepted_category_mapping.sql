{#- The category_mapping seed restricted to canonical categories the accepted_categories seed
    lists: the one lookup both silver_products and silver_transaction_checks standardise with. -#}
{% macro accepted_category_mapping() -%}
    select
        category_mapping.raw_category,
        category_mapping.category

    from {{ ref('category_mapping') }} as category_mapping
    inner join {{ ref('accepted_categories') }} as accepted_categories
        on accepted_categories.category = category_mapping.category
{%- endmacro %}
