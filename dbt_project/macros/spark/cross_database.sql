{#-
    dbt's own cross-database macros where dbt-spark's version does not give what DuckDB gives
    (issue 17). Each keeps the meaning the models are written for, as DuckDB computes it.
-#}

{#- Spark's split_part (3.3+) splits on the delimiter as text. dbt-spark's own version splits on
    a regular expression it builds, escaping only delimiters that start with a symbol, so a
    letter or a dot in the delimiter splits elsewhere. -#}
{% macro spark__split_part(string_text, delimiter_text, part_number) -%}
    split_part({{ string_text }}, {{ delimiter_text }}, {{ part_number }})
{%- endmacro %}

{#- The number of hour, minute or second boundaries crossed between two timestamps, as DuckDB's
    date_diff counts them: dbt-spark divides the seconds between them and rounds up, one more
    than DuckDB for 10:59 to 11:01 in minutes' terms (2 for 1). Days and longer are dbt-spark's. -#}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set seconds = {'hour': 3600, 'minute': 60, 'second': 1} -%}
    {%- if datepart in seconds -%}
        cast((
            unix_seconds(date_trunc('{{ datepart }}', cast({{ second_date }} as timestamp)))
            - unix_seconds(date_trunc('{{ datepart }}', cast({{ first_date }} as timestamp)))
        ) / {{ seconds[datepart] }} as bigint)
    {%- else -%}
        {{ dbt.spark__datediff(first_date, second_date, datepart) }}
    {%- endif -%}
{%- endmacro %}

{#- NULL where the value does not convert, as DuckDB's try_cast: dbt-spark's is a plain cast,
    which raises once ANSI mode is on (and dbt-spark turns it off only for its own sessions). -#}
{% macro spark__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{#- A text literal whatever it holds: Spark reads a backslash as an escape and joins 'a''b' into
    'ab', so both are escaped with a backslash (dbt's default escapes nothing). -#}
{% macro spark__string_literal(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
