{#-
    Times are naive UTC timestamps in every model: Spark has no TIMESTAMPTZ (its TIMESTAMP reads
    in the session time zone, UTC in the spark target), and DuckDB's TIMESTAMPTZ prints and
    truncates in the session's zone. utc_timestamp turns ISO text with an offset (as the CRM's
    JSON states hold) or a DuckDB TIMESTAMPTZ (raw tables) into the UTC wall-clock time;
    utc_now is the current time so.
-#}
{% macro utc_timestamp(value) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'fxcrm')(value)) }}
{%- endmacro %}

{% macro default__utc_timestamp(value) -%}
    cast({{ value }} as timestamp)
{%- endmacro %}

{% macro duckdb__utc_timestamp(value) -%}
    timezone('UTC', cast({{ value }} as timestamptz))
{%- endmacro %}

{% macro utc_now() -%}
    {{ return(adapter.dispatch('utc_now', 'fxcrm')()) }}
{%- endmacro %}

{% macro default__utc_now() -%}
    current_timestamp
{%- endmacro %}

{% macro duckdb__utc_now() -%}
    timezone('UTC', current_timestamp)
{%- endmacro %}
