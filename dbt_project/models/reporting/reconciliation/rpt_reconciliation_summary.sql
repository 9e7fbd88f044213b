-- Per check and break type: how many breaks stand in each status, the money at stake in USD
-- (open and acknowledged breaks) and the age of the oldest of those.
select
    check_name as {{ quoted('check') }},  -- noqa: RF04
    break_type,
    count(*) filter (where status = 'open') as open_breaks,
    count(*) filter (where status = 'acknowledged') as acknowledged_breaks,
    count(*) filter (where status = 'resolved') as resolved_breaks,
    count(*) filter (where status = 'cleared') as cleared_breaks,
    coalesce(
        sum(money_at_stake_usd) filter (where status in ('open', 'acknowledged')), 0
    ) as money_at_stake_usd,
    max(age_days) filter (where status in ('open', 'acknowledged')) as oldest_age_days
from {{ ref('fct_reconciliation_breaks') }}
group by check_name, break_type
