{#-
    MetaTrader keeps time on the server's wall clock, not in UTC (cTrader runs on UTC).
    server_time_to_utc reads such a timestamp as local time in the server's zone, with its
    daylight saving, and returns the UTC timestamp.
-#}
{% macro server_time_to_utc(server_time, time_zone) -%}
    {{ return(adapter.dispatch('server_time_to_utc', 'fxcrm')(server_time, time_zone)) }}
{%- endmacro %}

{% macro default__server_time_to_utc(server_time, time_zone) -%}
    (({{ server_time }} at time zone {{ time_zone }}) at time zone 'UTC')
{%- endmacro %}

{#- Spark's TIMESTAMP is read in the session's zone (UTC in the spark target). -#}
{% macro spark__server_time_to_utc(server_time, time_zone) -%}
    to_utc_timestamp({{ server_time }}, {{ time_zone }})
{%- endmacro %}

{% macro duckdb__server_time_to_utc(server_time, time_zone) -%}
    cast(timezone('UTC', timezone({{ time_zone }}, {{ server_time }})) as timestamp)
{%- endmacro %}
