{#-
    The continuous quantile q (0 to 1) of a column of whole numbers (seconds, counts), as an
    exact DECIMAL(28, 9): percentile_cont's interpolation written out, so both engines compute
    the same number. Null when the group has no value.

    DuckDB's quantile_cont/median and Spark's percentile interpolate in DOUBLE with different
    formulas (lo + (hi - lo) * f against (1 - f) * lo + f * hi), so a median half-way between
    two durations could land a hair either side of a rounding boundary: 1.91 hours on DuckDB,
    1.9 on Spark in one leaderboard row. Here the values are sorted into a list, the position
    (n - 1) * q is a decimal, and lo + (hi - lo) * (position - floor(position)) is decimal
    arithmetic on both.
-#}
{% macro exact_quantile_cont(value, quantile) -%}
    {%- set position -%}
        cast(cast(nullif(count({{ value }}), 0) - 1 as decimal(19, 0)) * cast({{ quantile }} as decimal(10, 9)) as decimal(28, 9))
    {%- endset -%}
    {%- set sorted = adapter.dispatch('sorted_list', 'fxcrm')(value) -%}
    {%- set lower = adapter.dispatch('list_element', 'fxcrm')(sorted, 'cast(floor(' ~ position ~ ') as int) + 1') -%}
    {%- set upper = adapter.dispatch('list_element', 'fxcrm')(sorted, 'cast(ceil(' ~ position ~ ') as int) + 1') -%}
    cast(
        cast({{ lower }} as decimal(19, 0))
        + cast({{ upper }} - {{ lower }} as decimal(19, 0))
        * cast({{ position }} - floor({{ position }}) as decimal(10, 9))
        as decimal(28, 9)
    )
{%- endmacro %}

{#- Hours, rounded half away from zero to `digits` decimals, of the exact quantile q of a
    column of whole seconds (DOUBLE, as the reports' other hours). -#}
{% macro quantile_hours(seconds, quantile, digits=2) -%}
    cast({{ money_divide(exact_quantile_cont(seconds, quantile), 3600, digits) }} as double)
{%- endmacro %}

{#- The group's non-null values in ascending order. -#}
{% macro default__sorted_list(value) -%}
    list_sort(list({{ value }}) filter (where {{ value }} is not null))
{%- endmacro %}

{% macro spark__sorted_list(value) -%}
    array_sort(collect_list({{ value }}))
{%- endmacro %}

{#- The list's element at a 1-based index; null for a null index. -#}
{% macro default__list_element(list, index) -%}
    list_extract({{ list }}, {{ index }})
{%- endmacro %}

{% macro spark__list_element(list, index) -%}
    element_at({{ list }}, {{ index }})
{%- endmacro %}
