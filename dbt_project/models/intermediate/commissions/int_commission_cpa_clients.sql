-- The clients whose cpa a build recomputes (int_commission_cpa computes theirs,
-- fct_commission_lines deletes and replaces theirs): every client when int_commission_changes
-- says everything; else each client in a bucket whose first deposits changed
-- (int_commission_changes' `client` rows: a deposit, its USD value, the partner linked at it;
-- a client whose deposit is gone is not here, fct_commission_lines deletes its line by its
-- bucket), and each client whose window holds a changed trade date. A client's cpa reads only its
-- first deposit and its deals from that deposit to the end of the longest window of any plan
-- (int_commission_cpa), and every change to those deals (late, corrected, re-attributed,
-- re-planned) shows in the fingerprint of their trade date; so no other client's cpa can move.
-- A daily increment recomputes the clients who deposited within the window before the day.
{{ config(materialized='table') }}

with

changes as (
    select * from {{ ref('int_commission_changes') }}
),

first_deposits as (
    select * from {{ ref('int_commission_first_deposits') }}
),

changed_days as (
    select trade_date from changes
    where kind = 'day'
),

cpa_window as (
    select {{ cpa_window_ms() }} as window_ms
),

-- the clients whose window (from the deposit's date to the window's end) holds a changed day
windows_changed as (
    select first_deposits.client_id
    from first_deposits
    cross join cpa_window
    where
        exists (
            select 1 from changes
            where changes.kind = 'everything'
        )
        or exists (
            select 1 from changed_days
            where
                changed_days.trade_date >= cast(first_deposits.deposit_time_utc as date)
                and (
                    cpa_window.window_ms is null
                    or {{ epoch_ms('cast(changed_days.trade_date as timestamp)') }}
                    <= {{ epoch_ms('first_deposits.deposit_time_utc') }} + cpa_window.window_ms
                )
        )
),

-- the clients in a bucket one of whose first deposits changed (commission_client_bucket)
deposits_changed as (
    select first_deposits.client_id
    from first_deposits
    inner join changes
        on
            changes.kind = 'client'
            and {{ commission_client_bucket('first_deposits.client_id') }} = changes.client_bucket
),

final as (
    select client_id from deposits_changed
    union
    select client_id from windows_changed
)

select * from final
