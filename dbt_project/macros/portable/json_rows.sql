{#-
    A join clause giving one row per element of a JSON list or per key of a JSON object held as
    text in `column`, with `alias.key` (the list position from 0, or the object's key) and
    `alias.value` (the element or value as JSON text; read it with json_text, or json_scalar
    for a plain number or string). `kind` is 'list' or 'object'. Write it straight after the
    table it reads from (`from plans {{ json_rows(...) }}`): DuckDB joins its json_each
    laterally, Spark needs a LATERAL VIEW of the parsed text (from_json reads nested objects
    and numbers as their JSON text when asked for strings). A null or empty JSON gives no row.
-#}
{% macro json_rows(column, alias, kind) -%}
    {%- if kind not in ('list', 'object') -%}
        {{ exceptions.raise_compiler_error("json_rows: kind is 'list' or 'object', not " ~ kind) }}
    {%- endif -%}
    {{ return(adapter.dispatch('json_rows', 'fxcrm')(column, alias, kind)) }}
{%- endmacro %}

{% macro default__json_rows(column, alias, kind) -%}
    , json_each({{ column }}) as {{ alias }}
{%- endmacro %}

{% macro spark__json_rows(column, alias, kind) -%}
    {%- if kind == 'list' -%}
        lateral view posexplode(from_json({{ column }}, 'array<string>')) {{ alias }} as key, value
    {%- else -%}
        lateral view explode(from_json({{ column }}, 'map<string,string>')) {{ alias }} as key, value
    {%- endif -%}
{%- endmacro %}

{#- A json_rows value that is a plain number or string, as text ('8', '12.5', 'abc'). -#}
{% macro json_scalar(value) -%}
    {{ return(adapter.dispatch('json_scalar', 'fxcrm')(value)) }}
{%- endmacro %}

{% macro default__json_scalar(value) -%}
    json_extract_string({{ value }}, '$')
{%- endmacro %}

{% macro spark__json_scalar(value) -%}
    {{ value }}
{%- endmacro %}

{#- A JSON list of strings held as text, as a list (an empty one for null). -#}
{% macro json_string_list(column) -%}
    {{ return(adapter.dispatch('json_string_list', 'fxcrm')(column)) }}
{%- endmacro %}

{% macro default__json_string_list(column) -%}
    coalesce(from_json({{ column }}, '["VARCHAR"]'), cast([] as varchar[]))
{%- endmacro %}

{% macro spark__json_string_list(column) -%}
    coalesce(from_json({{ column }}, 'array<string>'), cast(array() as array<string>))
{%- endmacro %}
