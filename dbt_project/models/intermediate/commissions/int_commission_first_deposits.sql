-- Each client's first deposit (commissions.md §4, rule 6): its earliest positive balance
-- operation on a known, non-excluded account, in USD at the rate of the deposit's UTC date or
-- the latest earlier one (none: the build stops naming both, rule 14), with the partner linked
-- at that instant, whom the client's cpa pays. Kept apart from int_commission_cpa so that a
-- build can fingerprint it (int_commission_fingerprints): a changed deposit, rate or link
-- recomputes that client's cpa.
{{ config(materialized='table') }}

with

accounts as (
    select
        server,
        login,
        client_id,
        currency
    from {{ ref('int_crm__trading_accounts') }}
    where is_current and login is not null and not coalesce(commission_excluded, false)
),

deposits as (
    select
        operations.server,
        operations.operation_ticket,
        operations.operation_time_utc,
        operations.amount,
        accounts.client_id,
        accounts.currency,
        row_number() over (
            partition by accounts.client_id
            order by operations.operation_time_utc, operations.operation_ticket
        ) as nth
    from {{ ref('int_platform__balance_operations') }} as operations
    inner join accounts
        on operations.server = accounts.server and operations.login = accounts.login
    where
        operations.operation = 'balance'
        and operations.amount > 0
        and operations.operation_time_utc is not null
),

rates as (
    select * from {{ ref('stg_market__fx_rates') }}
),

-- each first deposit's rate date: the latest on or before its UTC date (null: no rate)
deposit_rate_dates as (
    select
        deposits.client_id,
        max(rates.rate_date) as rate_date
    from deposits
    inner join rates
        on
            deposits.currency = rates.currency
            and cast(deposits.operation_time_utc as date) >= rates.rate_date
    where deposits.nth = 1
    group by deposits.client_id
),

first_deposits as (
    select
        deposits.client_id,
        deposits.server as deposit_server,
        deposits.operation_ticket as deposit_ticket,
        deposits.operation_time_utc as deposit_time_utc,
        {{ times('deposits.amount', """case
                when deposits.currency = 'USD' then 1
                when rates.usd_per_unit is null
                    then """ ~ raise_error(
                        "'commissions: no USD rate for ' || deposits.currency
                        || ' on or before '
                        || cast(cast(deposits.operation_time_utc as date) as string)"
                    ) ~ """
                else rates.usd_per_unit
            end""") }} as deposit_usd,
        links.partner_id as cpa_partner_id
    from deposits
    left join deposit_rate_dates on deposits.client_id = deposit_rate_dates.client_id
    left join rates
        on
            deposits.currency = rates.currency
            and deposit_rate_dates.rate_date = rates.rate_date
    inner join {{ ref('int_commission_links') }} as links
        on
            deposits.client_id = links.client_id
            and deposits.operation_time_utc >= links.linked_from
            and (links.linked_to is null or deposits.operation_time_utc < links.linked_to)
    where deposits.nth = 1 and links.partner_id is not null
)

select * from first_deposits
