{#-
    Time between two timestamps through dbt.datediff, which counts the unit's boundaries crossed
    as DuckDB's date_diff does (macros/spark/ overrides Spark's, whose own timestampdiff counts
    whole elapsed units instead). Wrapped so models read as the measure they take.

    hours_between: fractional hours, DOUBLE: whole seconds over 3600 (an integer over 3600.0
    is DOUBLE on DuckDB but DECIMAL on Spark, so the cast comes first).
    days_between: midnights crossed from `start` to `end`.
-#}
{% macro hours_between(start, end) -%}
    cast({{ dbt.datediff(start, end, 'second') }} as double) / 3600
{%- endmacro %}

{% macro days_between(start, end) -%}
    {{ dbt.datediff(start, end, 'day') }}
{%- endmacro %}

{#- A column name as the target quotes it ("check" on DuckDB, `check` on Spark). -#}
{% macro quoted(name) -%}
    {{ adapter.quote(name) }}
{%- endmacro %}
