{{
    config(
        post_hook=[
            "{{ ensure_index(this, ['raw_id']) }}",
            "{{ ensure_index(this, ['ingested_at']) }}",
            "{{ ensure_index(this, ['batch_id']) }}",
            "analyze {{ this }}",
        ]
    )
}}

with

source as (

    select * from {{ source('raw', 'products') }}

    {% if is_incremental() %}
    -- append only what landed since the last run; raw_id only grows
    where raw_id > (select coalesce(max(raw_id), 0) from {{ this }})
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
