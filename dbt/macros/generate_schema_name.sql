{#- Where a model's schema is, by target:
    - default (pods, the demo, every documented command): exactly bronze/silver/gold/platinum
      (and test_failures), as the seed's monitoring queries expect;
    - dev: per developer, dev_<DBT_DEV_NAME, else the login name>_<layer>, so two people
      building on one server never overwrite each other's layers;
    - ci: per run, ci_<DBT_CI_RUN_ID>_<layer>, so concurrent CI runs are isolated.
    Sources (raw) are never prefixed: every target reads the same landing tables. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set base = target.schema if custom_schema_name is none else custom_schema_name | trim -%}
    {%- if target.name == 'dev' -%}
        {{ schema_prefix('dev', env_var('DBT_DEV_NAME', '') or env_var('USER', 'developer')) }}_{{ base }}
    {%- elif target.name == 'ci' -%}
        {{ schema_prefix('ci', env_var('DBT_CI_RUN_ID', '') or 'local') }}_{{ base }}
    {%- else -%}
        {{ base }}
    {%- endif -%}
{%- endmacro %}

{#- `<kind>_<name>` folded to what an unquoted PostgreSQL identifier may hold. -#}
{% macro schema_prefix(kind, name) -%}
    {{ kind }}_{{ modules.re.sub('[^a-z0-9_]', '_', name | lower) }}
{%- endmacro %}
