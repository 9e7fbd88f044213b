-- The balance check: each login's end-of-day balance against the one before it plus what moved
-- in between: deals' profit, swap, commission and fee, and every balance operation that moves
-- balance (credit is tracked apart). Days are server days, taken from each record's server
-- time, so a late deal landed in a later file still counts on the day it was made.
with

snapshots as (
    select
        server,
        login,
        server_day,
        currency,
        balance,
        lag(server_day) over by_login as previous_day,
        lag(balance) over by_login as previous_balance,
        _source_file || ' row ' || _row_number as platform_ref
    from {{ ref('int_platform__daily_snapshots') }}
    window by_login as (partition by server, login order by server_day)
),

movements as (
    select
        server,
        login,
        cast(deal_time_server as date) as server_day,
        profit + swap + commission + coalesce(fee, 0) as amount
    from {{ ref('int_platform__deals') }}

    union all

    select
        server,
        login,
        cast(operation_time_server as date) as server_day,
        amount
    from {{ ref('int_platform__balance_operations') }}
    where operation not in ('credit', 'so_compensation_credit')
),

daily_movements as (
    select
        server,
        login,
        server_day,
        sum(amount) as amount
    from movements
    group by server, login, server_day
),

-- Everything after the previous record up to this one: a day without a record (none is sent
-- for a login that did nothing) rolls into the next record's day.
computed as (
    select
        snapshots.server,
        snapshots.login,
        snapshots.server_day,
        snapshots.currency,
        snapshots.balance,
        snapshots.platform_ref,
        any_value(snapshots.previous_balance)
        + coalesce(sum(daily_movements.amount), 0) as expected_balance
    from snapshots
    left join daily_movements
        on
            snapshots.server = daily_movements.server
            and snapshots.login = daily_movements.login
            and snapshots.previous_day < daily_movements.server_day
            and snapshots.server_day >= daily_movements.server_day
    where snapshots.previous_day is not null
    group by all
)

select
    'balance' as check_name,
    'balance_discontinuity' as break_type,
    server,
    login,
    cast(null as string) as client_id,
    cast(null as string) as payment_id,
    cast(null as string) as partner_id,
    cast(null as bigint) as ticket,
    server_day as break_day,
    currency,
    cast(expected_balance as string) as expected,
    cast(balance as string) as actual,
    cast(balance - expected_balance as decimal(18, 2)) as difference,
    cast(abs(balance - expected_balance) as decimal(18, 2)) as money_at_stake,
    cast(null as string) as crm_ref,
    platform_ref
from computed
where balance <> expected_balance
