{#-
    The join keyword of a semi join (each left row once when it has a match; only the left
    side's columns): DuckDB's `semi join`, Spark's `left semi join`. A semi join builds its hash
    table on the right side, whatever the estimates; an inner join on a small relation whose
    size DuckDB cannot estimate (a few positions a change touched) built it on the millions of
    deals instead.
-#}
{% macro semi_join() -%}
    {{ return(adapter.dispatch('semi_join', 'fxcrm')()) }}
{%- endmacro %}

{% macro default__semi_join() -%}
    semi join
{%- endmacro %}

{% macro spark__semi_join() -%}
    left semi join
{%- endmacro %}
