{{ config(
    materialized='incremental',
    incremental_strategy='append',
    full_refresh=false,
    on_schema_change='fail',
) }}

-- What each build saw: a row per break it found (present), and a row (not present) for each
-- break the build before showed that this one no longer finds. Appended at every build and never
-- rebuilt (full_refresh is off), so first-seen times and a break's comings and goings survive.
{%- set break_columns = [
    'check_name', 'break_type', 'server', 'login', 'client_id', 'payment_id', 'partner_id',
    'ticket', 'break_day', 'currency', 'expected', 'actual', 'difference', 'money_at_stake',
    'money_at_stake_usd', 'crm_ref', 'platform_ref', 'break_id', 'severity',
] %}
with

found as (
    select * from {{ ref('int_reconciliation__breaks') }}
),

{% if is_incremental() %}
    last_seen as (
        select * from {{ this }}
        qualify row_number() over (partition by break_id order by built_at desc) = 1
    ),
{% endif %}

-- Both sides by name (Spark has no union by name).
seen as (
    select
        true as present,
        {{ break_columns | join(',\n        ') }}
    from found
    {% if is_incremental() %}
        union all
        select
            false as present,
            {{ break_columns | join(',\n            ') }}
        from last_seen
        where present and break_id not in (select found.break_id from found)
    {% endif %}
)

select
    {{ build_time() }} as built_at,
    *
from seen
