{#-
    One row per piece of `text` split where `pattern` (a regular expression) matches, as a
    select-list expression: DuckDB unnests the list, Spark explodes the array.
-#}
{% macro split_to_rows(text, pattern) -%}
    {{ return(adapter.dispatch('split_to_rows', 'fxcrm')(text, pattern)) }}
{%- endmacro %}

{% macro default__split_to_rows(text, pattern) -%}
    unnest(regexp_split_to_array({{ text }}, {{ pattern }}))
{%- endmacro %}

{% macro spark__split_to_rows(text, pattern) -%}
    explode(split({{ text }}, {{ pattern }}))
{%- endmacro %}
