{#-
    The continuous (interpolated) quantile q of a numeric column: DuckDB's quantile_cont, Spark's
    percentile (exact, same interpolation). median() is the same on both and needs no macro.
-#}
{% macro quantile_cont(value, quantile) -%}
    {{ return(adapter.dispatch('quantile_cont', 'fxcrm')(value, quantile)) }}
{%- endmacro %}

{% macro default__quantile_cont(value, quantile) -%}
    quantile_cont({{ value }}, {{ quantile }})
{%- endmacro %}

{% macro spark__quantile_cont(value, quantile) -%}
    percentile({{ value }}, {{ quantile }})
{%- endmacro %}
