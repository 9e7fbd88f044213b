{#-
    The time reports measure ages and deadlines against: the build's time, or the `as_of` var
    (an ISO time, UTC unless it says its offset; a naive UTC timestamp like every time in the
    models) where a test or a rebuild of a past day sets it.
-#}
{% macro as_of() -%}
    {%- if var('as_of', none) -%}
        {{ utc_timestamp("'" ~ var('as_of') ~ "'") }}
    {%- else -%}
        {{ utc_now() }}
    {%- endif -%}
{%- endmacro %}
