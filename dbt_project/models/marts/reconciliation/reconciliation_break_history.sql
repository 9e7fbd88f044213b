{{ config(materialized='incremental', full_refresh=false, on_schema_change='fail') }}

-- What each build saw: a row per break it found (present), and a row (not present) for each
-- break the build before showed that this one no longer finds. Appended at every build and never
-- rebuilt (full_refresh is off), so first-seen times and a break's comings and goings survive.
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

seen as (
    select
        true as present,
        *
    from found
    {% if is_incremental() %}
        union all by name
        select
            false as present,
            * exclude (built_at, present)
        from last_seen
        where present and break_id not in (select found.break_id from found)
    {% endif %}
)

select
    {{ build_time() }} as built_at,
    *
from seen
