with

source as (

    select * from {{ source('raw', 'products') }} as landed

    {% if is_incremental() %}
    -- append only what landed since the last run, late commits included
    where {{ not_yet_in_bronze('landed') }}
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
