{#-
    The value of `value` on the row where `ordering` is largest (arg_max) or smallest (arg_min)
    in the group; rows with a null `ordering` are ignored on both engines. DuckDB's arg_max is
    Spark's max_by. Ties are broken arbitrarily on both: order by a unique key where it matters.
-#}
{% macro arg_max(value, ordering) -%}
    {{ return(adapter.dispatch('arg_max', 'fxcrm')(value, ordering)) }}
{%- endmacro %}

{% macro default__arg_max(value, ordering) -%}
    arg_max({{ value }}, {{ ordering }})
{%- endmacro %}

{% macro spark__arg_max(value, ordering) -%}
    max_by({{ value }}, {{ ordering }})
{%- endmacro %}

{% macro arg_min(value, ordering) -%}
    {{ return(adapter.dispatch('arg_min', 'fxcrm')(value, ordering)) }}
{%- endmacro %}

{% macro default__arg_min(value, ordering) -%}
    arg_min({{ value }}, {{ ordering }})
{%- endmacro %}

{% macro spark__arg_min(value, ordering) -%}
    min_by({{ value }}, {{ ordering }})
{%- endmacro %}
