{#-
    Time between two timestamps through dbt.datediff, which counts the unit's boundaries crossed
    as DuckDB's date_diff does (macros/spark/ overrides Spark's, whose own timestampdiff counts
    whole elapsed units instead). Wrapped so models read as the measure they take.

    seconds_between: whole seconds (second boundaries crossed), BIGINT: what exact quantiles
    of durations take (exact_quantile.sql).
    hours_between: fractional hours, DOUBLE: whole seconds over 3600 (an integer over 3600.0
    is DOUBLE on DuckDB but DECIMAL on Spark, so the cast comes first).
    days_between: midnights crossed from `start` to `end`.
-#}
{% macro seconds_between(start, end) -%}
    {{ dbt.datediff(start, end, 'second') }}
{%- endmacro %}

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

{#-
    A DOUBLE rounded to `digits` decimals as its printed value reads, half away from zero, as
    DOUBLE. round() on a DOUBLE differs: DuckDB rounds the binary value (0.575 is stored as
    0.57499999... and gives 0.57), Spark the shortest decimal that prints it (0.58). Going
    through DECIMAL(38, 10) first gives 0.58 on both.
-#}
{% macro round_half_up(value, digits) -%}
    cast(round(cast({{ value }} as decimal(38, 10)), {{ digits }}) as double)
{%- endmacro %}
