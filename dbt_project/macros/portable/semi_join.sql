{#-
    The join keyword of a semi join (each left row once when it has a match; only the left
    side's columns): DuckDB's `semi join`, Spark's `left semi join`. Used where the left side
    is millions of deals and the right a few positions, and only the deals' dates are wanted.
    Which side DuckDB hashes still follows its estimates: int_commission_changed_days keeps
    them small by reading its changed dates from a table (int_commission_differing_days).
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
