{#-
    A JSON object's value at `path` (a key, or a list of keys for a nested value) as text, null
    for a JSON null; objects and lists come back as compact JSON text on every engine. Keys with
    dots (`payments.csv`) are quoted per engine: DuckDB `$."a.b"`, Spark `$['a.b']`.
-#}
{% macro json_text(column, path) -%}
    {%- set keys = [path] if path is string else path -%}
    {{ return(adapter.dispatch('json_text', 'fxcrm')(column, keys)) }}
{%- endmacro %}

{% macro default__json_text(column, keys) -%}
    json_extract_string({{ column }}, '$.{% for key in keys %}"{{ key }}"{{ "." if not loop.last }}{% endfor %}')
{%- endmacro %}

{% macro spark__json_text(column, keys) -%}
    get_json_object({{ column }}, '${% for key in keys %}{{ "." ~ key if modules.re.match("^[A-Za-z0-9_]+$", key) else "[\\'" ~ key ~ "\\']" }}{% endfor %}')
{%- endmacro %}

{% macro postgres__json_text(column, keys) -%}
    ({{ column }}::jsonb #>> '{ {{- keys | join(",") -}} }')
{%- endmacro %}
