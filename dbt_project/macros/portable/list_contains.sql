{#- Whether a list (array) column holds an element: DuckDB's list_contains, Spark's array_contains. -#}
{% macro list_contains(list, element) -%}
    {{ return(adapter.dispatch('list_contains', 'fxcrm')(list, element)) }}
{%- endmacro %}

{% macro default__list_contains(list, element) -%}
    list_contains({{ list }}, {{ element }})
{%- endmacro %}

{% macro spark__list_contains(list, element) -%}
    array_contains({{ list }}, {{ element }})
{%- endmacro %}
