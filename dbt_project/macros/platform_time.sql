{#-
    MetaTrader stores time as seconds since 1970 on the server's wall clock, not in UTC.
    server_time_to_utc reads such a value as local time in the server's zone (with its DST)
    and returns a UTC timestamp; epoch_to_timestamp gives the wall clock itself.
-#}
{% macro epoch_to_timestamp(epoch_seconds) -%}
    {{ return(adapter.dispatch('epoch_to_timestamp', 'fxcrm')(epoch_seconds)) }}
{%- endmacro %}

{% macro default__epoch_to_timestamp(epoch_seconds) -%}
    cast(timestamp '1970-01-01 00:00:00' + {{ epoch_seconds }} * interval '1 second' as timestamp)
{%- endmacro %}

{% macro duckdb__epoch_to_timestamp(epoch_seconds) -%}
    make_timestamp(cast({{ epoch_seconds }} as bigint) * 1000000)
{%- endmacro %}

{% macro server_time_to_utc(epoch_seconds, time_zone) -%}
    {{ return(adapter.dispatch('server_time_to_utc', 'fxcrm')(epoch_seconds, time_zone)) }}
{%- endmacro %}

{% macro default__server_time_to_utc(epoch_seconds, time_zone) -%}
    (({{ fxcrm.epoch_to_timestamp(epoch_seconds) }} at time zone {{ time_zone }}) at time zone 'UTC')
{%- endmacro %}

{% macro duckdb__server_time_to_utc(epoch_seconds, time_zone) -%}
    cast(timezone('UTC', timezone({{ time_zone }}, {{ fxcrm.epoch_to_timestamp(epoch_seconds) }})) as timestamp)
{%- endmacro %}
