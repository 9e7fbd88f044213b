{#-
    A date `months` months later, as a date (the 31st clamps to the month's last day on both
    engines). DuckDB adds an interval and returns a timestamp; Spark has add_months.
-#}
{% macro add_months(date, months) -%}
    {{ return(adapter.dispatch('add_months', 'fxcrm')(date, months)) }}
{%- endmacro %}

{% macro default__add_months(date, months) -%}
    cast({{ date }} + to_months(cast({{ months }} as integer)) as date)
{%- endmacro %}

{% macro spark__add_months(date, months) -%}
    add_months({{ date }}, {{ months }})
{%- endmacro %}
