{#- The time this dbt invocation started, UTC, as a timestamp: one value for every model of a
    build, so the break history can tell builds apart. The `build_time` var names the instant
    instead, so two builds of the same data (DuckDB's and Spark's, tests/test_spark_parity.py,
    or a replayed build) keep the same history. -#}
{% macro build_time() -%}
    cast('{{ var("build_time", none) or run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
