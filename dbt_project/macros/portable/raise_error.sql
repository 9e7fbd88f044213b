{#-
    Stops the query with `message` (a text expression) where it is evaluated, typed as null so
    it fits any CASE branch: DuckDB's error(), Spark's raise_error() (which ANSI mode being off
    does not silence).
-#}
{% macro raise_error(message) -%}
    {{ return(adapter.dispatch('raise_error', 'fxcrm')(message)) }}
{%- endmacro %}

{% macro default__raise_error(message) -%}
    error({{ message }})
{%- endmacro %}

{% macro spark__raise_error(message) -%}
    raise_error({{ message }})
{%- endmacro %}
