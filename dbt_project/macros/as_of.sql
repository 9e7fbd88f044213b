{#-
    The time reports measure ages and deadlines against, as a naive UTC timestamp like every time
    in the models: the build's time, or the `as_of` var where a test or a rebuild of a past day
    sets it (an ISO time, UTC unless it states its offset).
-#}
{% macro as_of() -%}
    {%- set given = var('as_of', none) -%}
    {%- if not given -%}
        {{ utc_now() }}
    {%- elif modules.re.search(':[0-9]{2}(\\.[0-9]+)?([+-][0-9]{2}(:?[0-9]{2})?|Z)$', given | string) -%}
        {{ utc_timestamp("'" ~ given ~ "'") }}
    {%- else -%}
        cast('{{ given }}' as timestamp)
    {%- endif -%}
{%- endmacro %}
