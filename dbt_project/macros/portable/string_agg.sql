{#-
    Text of a group's values joined by `separator` in `order_by` order (distinct values only
    when asked). DuckDB takes the order inside the call; Spark (4.0+) as WITHIN GROUP.
-#}
{% macro string_agg_ordered(value, separator, order_by, distinct=false) -%}
    {{ return(adapter.dispatch('string_agg_ordered', 'fxcrm')(value, separator, order_by, distinct)) }}
{%- endmacro %}

{% macro default__string_agg_ordered(value, separator, order_by, distinct) -%}
    string_agg({{ 'distinct ' if distinct }}{{ value }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__string_agg_ordered(value, separator, order_by, distinct) -%}
    string_agg({{ 'distinct ' if distinct }}{{ value }}, {{ separator }}) within group (order by {{ order_by }})
{%- endmacro %}
