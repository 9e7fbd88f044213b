{#-
    A decimal as plain text with its `scale` decimals ('0.000000000000', '-12.50'), for text
    shown beside figures (a commission line's rule). DuckDB prints a decimal so; Spark's cast
    prints small ones in scientific notation ('0E-12'), so it formats the exact value
    (format_number keeps every decimal asked for) and drops the thousands separators.
    The value is read at `scale` decimals first (give its own scale: a wider one adds zeros).
-#}
{% macro decimal_text(value, scale) -%}
    {{ return(adapter.dispatch('decimal_text', 'fxcrm')(value, scale)) }}
{%- endmacro %}

{% macro default__decimal_text(value, scale) -%}
    cast(cast({{ value }} as decimal(38, {{ scale }})) as string)
{%- endmacro %}

{% macro spark__decimal_text(value, scale) -%}
    replace(format_number(cast({{ value }} as decimal(38, {{ scale }})), {{ scale }}), ',', '')
{%- endmacro %}
