{#- The expression index serves silver, which re-reads every version of the transactions that
    arrive in a new batch by their trimmed transaction_id, cut to 64 characters: every valid id
    fits (a longer one is invalid_type), and the cut keeps a hostile value within what a btree
    entry can hold. A btree, not a hash index: PostgreSQL re-checks every row a hash index
    returns against the whole `= any(array)` list, which made a batch cost the square of its
    size (98k new rows took 47 s). The last hook drops that hash index from older databases. -#}
{{
    config(
        post_hook=[
            "{{ ensure_index(this, ['left(' ~ json_text('payload', 'transaction_id') ~ ', 64)'], name='transaction_key') }}",
            "{{ drop_index_named(this, 'transaction_id') }}",
            "{{ analyze_after_rebuild() }}",
        ]
    )
}}

with

source as (

    {% if is_incremental() %}
    -- append only what landed since the last run, late commits included
    {{ not_yet_in_bronze(source('raw', 'transactions')) }}
    {% else %}
    select * from {{ source('raw', 'transactions') }}
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
