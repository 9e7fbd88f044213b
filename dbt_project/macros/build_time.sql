{#- The time this dbt invocation started, UTC, as a timestamp: one value for every model of a
    build, so the break history can tell builds apart. -#}
{% macro build_time() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
