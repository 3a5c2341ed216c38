{#- Incremental filter of the bronze models: the raw rows (aliased `landed`) bronze does not have.
    raw_id is handed out at INSERT, not at COMMIT: a long landing can commit rows below the
    high-water mark after a run has passed it. So besides raw_id > the newest loaded raw_id, rows
    that landed within late_landing_window_hours of the newest loaded one are re-checked, and
    kept when bronze does not have them yet. -#}
{% macro not_yet_in_bronze(landed) -%}
    {{ landed }}.raw_id > (select coalesce(max(raw_id), 0) from {{ this }})
    or (
        {{ landed }}.ingested_at >= (
            select coalesce(max(ingested_at), '-infinity'::timestamptz) from {{ this }}
        ) - interval '{{ var("late_landing_window_hours") }} hours'
        and not exists (
            select 1 from {{ this }} as loaded where loaded.raw_id = {{ landed }}.raw_id
        )
    )
{%- endmacro %}
