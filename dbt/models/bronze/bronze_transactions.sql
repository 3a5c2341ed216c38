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
    -- Append what landed since the last run. raw_id is handed out at INSERT, not at COMMIT: a
    -- long landing can commit rows below the high-water mark after a run has passed it. So rows
    -- that landed within late_landing_window_hours of the newest loaded one are re-checked too,
    -- and appended when bronze does not have them yet.
    where landed.raw_id > (select coalesce(max(raw_id), 0) from {{ this }})
        or (
            landed.ingested_at >= (
                select coalesce(max(ingested_at), '-infinity'::timestamptz) from {{ this }}
            ) - interval '{{ var("late_landing_window_hours") }} hours'
            and not exists (
                select 1 from {{ this }} as loaded where loaded.raw_id = landed.raw_id
            )
        )
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
