{#-
    One hash of a record's content, so a re-sent copy of a record is told apart from a corrected
    version of it. Nulls hash differently from empty text.
-#}
{% macro content_hash(columns) -%}
    md5(concat_ws('|', {% for column in columns -%}
        coalesce(cast({{ column }} as string), '<null>'){% if not loop.last %}, {% endif %}
    {%- endfor %}))
{%- endmacro %}
