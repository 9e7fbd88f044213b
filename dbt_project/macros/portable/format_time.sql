{#-
    A date or timestamp as text, the format written as strftime's (`'%Y-%m'`): DuckDB's
    strftime; Spark's date_format takes Java patterns, so the few codes the project uses are
    translated (an unknown code fails the compilation rather than giving other text).
-#}
{% macro format_time(value, strftime_format) -%}
    {{ return(adapter.dispatch('format_time', 'fxcrm')(value, strftime_format)) }}
{%- endmacro %}

{% macro default__format_time(value, strftime_format) -%}
    strftime({{ value }}, '{{ strftime_format }}')
{%- endmacro %}

{% macro spark__format_time(value, strftime_format) -%}
    {%- set java = {'%Y': 'yyyy', '%m': 'MM', '%d': 'dd', '%H': 'HH', '%M': 'mm', '%S': 'ss', '%%': '%'} -%}
    {%- set pattern = namespace(text=strftime_format) -%}
    {%- for code, replacement in java.items() -%}
        {%- set pattern.text = pattern.text.replace(code, replacement) -%}
    {%- endfor -%}
    {%- if '%' in pattern.text.replace("'%'", '') -%}
        {{ exceptions.raise_compiler_error("format_time: no Spark pattern for '" ~ strftime_format ~ "'") }}
    {%- endif -%}
    date_format({{ value }}, '{{ pattern.text }}')
{%- endmacro %}
