{#-
    Milliseconds since 1970-01-01 UTC of a (naive UTC) timestamp, and back. DuckDB's epoch_ms
    does both by argument type; Spark has unix_millis and timestamp_millis. Differences of
    times in whole units are dbt.datediff's job (overridden for Spark in macros/spark/).
-#}
{% macro epoch_ms(timestamp) -%}
    {{ return(adapter.dispatch('epoch_ms', 'fxcrm')(timestamp)) }}
{%- endmacro %}

{% macro default__epoch_ms(timestamp) -%}
    epoch_ms({{ timestamp }})
{%- endmacro %}

{% macro spark__epoch_ms(timestamp) -%}
    unix_millis({{ timestamp }})
{%- endmacro %}

{% macro from_epoch_ms(milliseconds) -%}
    {{ return(adapter.dispatch('from_epoch_ms', 'fxcrm')(milliseconds)) }}
{%- endmacro %}

{% macro default__from_epoch_ms(milliseconds) -%}
    epoch_ms(cast({{ milliseconds }} as bigint))
{%- endmacro %}

{% macro spark__from_epoch_ms(milliseconds) -%}
    timestamp_millis(cast({{ milliseconds }} as bigint))
{%- endmacro %}
