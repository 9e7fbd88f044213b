{#-
    a x b for commission amounts. DuckDB types a product with the sum of its factors' scales
    within their precision, so two DECIMAL(18, 8) overflow past 100; both factors are widened to
    38 digits first. Lots, rates, percents and money carry at most 12 decimals in practice, so
    the product kept at 12 decimals is exact (commissions.md §5: lines are not rounded).
-#}
{% macro times(a, b) -%}
    cast(cast({{ a }} as decimal(38, 12)) * cast({{ b }} as decimal(38, 12)) as decimal(38, 12))
{%- endmacro %}

{#- pct percent of x. -#}
{% macro percent_of(pct, x) -%}
    {{ times(times(pct, '0.01'), x) }}
{%- endmacro %}
