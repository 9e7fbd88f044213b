{#-
    A 64-bit hash of one or more values (a row struct included), for fingerprints that tell
    whether inputs changed since the last build. DuckDB's hash() and Spark's xxhash64() give
    different numbers (and Spark's hash() is only 32 bits), so a hash is compared only with
    another from the same engine: never use it as an id or a figure (ids use md5, which agrees).
-#}
{% macro hash_value(values) -%}
    {{ return(adapter.dispatch('hash_value', 'fxcrm')(values)) }}
{%- endmacro %}

{% macro default__hash_value(values) -%}
    hash({{ values if values is string else values | join(', ') }})
{%- endmacro %}

{% macro spark__hash_value(values) -%}
    xxhash64({{ values if values is string else values | join(', ') }})
{%- endmacro %}
