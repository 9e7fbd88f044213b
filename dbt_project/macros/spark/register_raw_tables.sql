{#- The raw tables the sources read, registered on Spark over the parquet orchestration/spark.py
    wrote from the DuckDB warehouse (var spark_raw_dir, <schema>/<table>/ under it). Dropped and
    created again, so a new export's files are read (dropping a table over a LOCATION keeps its
    files). Run as `dbt run-operation register_raw_tables` before a build on Spark. -#}
{% macro register_raw_tables() %}
    {%- set raw_dir = var('spark_raw_dir') -%}
    {%- set schemas = [] -%}
    {%- for source in graph.sources.values() -%}
        {%- if source.schema not in schemas -%}
            {%- do run_query('create schema if not exists ' ~ source.schema) -%}
            {%- do schemas.append(source.schema) -%}
        {%- endif -%}
        {%- set folder = raw_dir ~ '/' ~ source.schema ~ '/' ~ source.name -%}
        {%- do run_query('drop table if exists ' ~ source.schema ~ '.' ~ source.name) -%}
        {%- do run_query(
            'create table ' ~ source.schema ~ '.' ~ source.name
            ~ " using parquet location '" ~ folder ~ "'"
        ) -%}
    {%- endfor -%}
{% endmacro %}
