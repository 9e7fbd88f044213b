{#- Whole days of waiting as the buckets the pages show: 0-2, 3-7, 8-30 and 30+ (over 30). -#}
{% macro age_bucket(days) -%}
    case
        when {{ days }} <= 2 then '0-2'
        when {{ days }} <= 7 then '3-7'
        when {{ days }} <= 30 then '8-30'
        else '30+'
    end
{%- endmacro %}
