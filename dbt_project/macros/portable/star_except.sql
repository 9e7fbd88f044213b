{#-
    Every column of a relation but some: `select {{ star_except(['recency']) }} from ...`, or
    `{{ star_except(['a', 'b'], 'alias') }}` for one side of a join. DuckDB spells it
    `* exclude (...)`, Spark `* except (...)`; a CTE has no catalog entry to list its columns
    from, so this cannot be dbt_utils.star.
-#}
{% macro star_except(columns, relation_alias=none) -%}
    {{ return(adapter.dispatch('star_except', 'fxcrm')(columns, relation_alias)) }}
{%- endmacro %}

{% macro default__star_except(columns, relation_alias) -%}
    {{ relation_alias ~ '.' if relation_alias }}* exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(columns, relation_alias) -%}
    {{ relation_alias ~ '.' if relation_alias }}* except ({{ columns | join(', ') }})
{%- endmacro %}
