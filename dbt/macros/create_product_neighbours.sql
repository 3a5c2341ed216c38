{#- Pre-hook of platinum_product_recommendations: the table `workbench embed` fills with each
    product's nearest products (source platinum_vectors.product_neighbours), created empty when
    missing so the view builds, with empty arrays, before anything was embedded and on a server
    without pgvector. Plain types only: no pgvector needed here. -#}
{% macro create_product_neighbours() -%}
    {%- set relation = source('platinum_vectors', 'product_neighbours') -%}
    create schema if not exists {{ relation.schema }};
    create table if not exists {{ relation }} (
        product_id text primary key,
        model_id text not null,
        similar_product_ids text[] not null,
        similarity_scores real[] not null,
        computed_at timestamptz not null default now()
    )
{%- endmacro %}
