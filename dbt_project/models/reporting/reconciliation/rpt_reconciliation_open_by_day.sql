-- Breaks standing at the end of each day there was a build (what that day's last build found),
-- by check and severity, from the break history: the page's chart of open breaks over time.
with

history as (
    select * from {{ ref('reconciliation_break_history') }}
),

days as (
    select distinct cast(built_at as date) as build_day from history
),

standing as (
    select
        history.*,
        days.build_day
    from days
    inner join history on cast(history.built_at as date) <= days.build_day
    qualify row_number() over (
        partition by days.build_day, history.break_id order by history.built_at desc
    ) = 1
)

select
    build_day as day,  -- noqa: RF04
    check_name as {{ quoted('check') }},  -- noqa: RF04
    severity,
    count(*) as open_breaks,
    coalesce(sum(money_at_stake_usd), 0) as money_at_stake_usd
from standing
where present
group by build_day, check_name, severity
