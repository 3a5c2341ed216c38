{#- The expression index serves silver, which re-reads every version of the transactions that
    arrive in a new batch by their (trimmed) transaction_id. -#}
{{
    config(
        post_hook=[
            "{{ ensure_index(this, ['raw_id']) }}",
            "{{ ensure_index(this, ['ingested_at']) }}",
            "{{ ensure_index(this, ['batch_id']) }}",
            "{{ ensure_index(this, ['bronze_loaded_at']) }}",
            "analyze {{ this }}",
            "{{ ensure_index(this, ['(' ~ json_text('payload', 'transaction_id') ~ ')'], name='transaction_id', method='hash') }}",
        ]
    )
}}

with

source as (

    select * from {{ source('raw', 'transactions') }} as landed

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
