{#-
    The time reports measure ages and deadlines against: the build's time, or the `as_of` var
    (a UTC timestamp) where a test or a rebuild of a past day sets it.
-#}
{% macro as_of() -%}
    {%- if var('as_of', none) -%}
        cast('{{ var("as_of") }}' as timestamptz)
    {%- else -%}
        current_timestamp
    {%- endif -%}
{%- endmacro %}
