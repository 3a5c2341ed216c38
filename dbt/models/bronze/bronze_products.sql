-- the layer's hooks (dbt_project.yml) run first; statistics last, after every index
{{ config(post_hook=["{{ analyze_after_rebuild() }}"]) }}

with

source as (

    {% if is_incremental() %}
    -- append only what landed since the last run, late commits included
    {{ not_yet_in_bronze(source('raw', 'products')) }}
    {% else %}
    select * from {{ source('raw', 'products') }}
    {% endif %}

),

final as (

    select
        raw_id,
        payload,
        source,
        source_file,
        source_row,
        batch_id,
        payload_sha256,
        ingested_at,
        current_timestamp as bronze_loaded_at

    from source

)

select * from final
