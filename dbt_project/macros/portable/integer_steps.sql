{#-
    As a select-list expression, one row per integer from `start` up to but not including
    `stop` (stop must be greater than start): DuckDB unnests range(), Spark explodes
    sequence(), whose end is inclusive.
-#}
{% macro integer_steps(start, stop) -%}
    {{ return(adapter.dispatch('integer_steps', 'fxcrm')(start, stop)) }}
{%- endmacro %}

{% macro default__integer_steps(start, stop) -%}
    unnest(range({{ start }}, {{ stop }}))
{%- endmacro %}

{% macro spark__integer_steps(start, stop) -%}
    explode(sequence(cast({{ start }} as bigint), cast({{ stop }} as bigint) - 1))
{%- endmacro %}

{#- Integer division truncated toward zero of two integers: DuckDB's //, Spark's div. -#}
{% macro integer_divide(dividend, divisor) -%}
    {{ return(adapter.dispatch('integer_divide', 'fxcrm')(dividend, divisor)) }}
{%- endmacro %}

{% macro default__integer_divide(dividend, divisor) -%}
    ({{ dividend }}) // ({{ divisor }})
{%- endmacro %}

{% macro spark__integer_divide(dividend, divisor) -%}
    (({{ dividend }}) div ({{ divisor }}))
{%- endmacro %}
