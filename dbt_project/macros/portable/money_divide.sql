{#-
    numerator / denominator for money and rates, rounded half away from zero to `scale`
    decimals as DECIMAL(38, scale), and null (not an error, not infinity) when the denominator
    is 0: dbt-spark turns ANSI mode off, so a division by zero is null there anyway and DuckDB
    must agree. Both operands must fit DECIMAL(28, 10) (under 10^18 with at most 10 decimals).

    The default is exact decimal division (Spark, PostgreSQL): (28, 10) / (28, 10) keeps 10
    decimals before the final rounding. DuckDB divides decimals in DOUBLE, which can round the
    last cent the other way, so it divides scaled integers (HUGEINT) instead.
-#}
{% macro money_divide(numerator, denominator, scale=2) -%}
    {{ return(adapter.dispatch('money_divide', 'fxcrm')(numerator, denominator, scale)) }}
{%- endmacro %}

{% macro default__money_divide(numerator, denominator, scale) -%}
    cast(
        cast({{ numerator }} as decimal(28, 10))
        / nullif(cast({{ denominator }} as decimal(28, 10)), 0)
        as decimal(38, {{ scale }})
    )
{%- endmacro %}

{% macro duckdb__money_divide(numerator, denominator, scale) -%}
    {%- set n = 'cast(cast(' ~ numerator ~ ' as decimal(28, 10)) * 10000000000 as hugeint)' -%}
    {%- set d = 'cast(cast(' ~ denominator ~ ' as decimal(28, 10)) * 10000000000 as hugeint)' -%}
    {%- set unit = '1' if scale == 0 else '0.' ~ '0' * (scale - 1) ~ '1' -%}
    cast(
        cast(
            sign({{ n }}) * sign(nullif({{ d }}, 0))
            * ((2 * abs({{ n }}) * {{ 10 ** scale }} + abs({{ d }})) // (2 * abs(nullif({{ d }}, 0))))
            as decimal(38, 0)
        ) * {{ unit }}
        as decimal(38, {{ scale }})
    )
{%- endmacro %}
