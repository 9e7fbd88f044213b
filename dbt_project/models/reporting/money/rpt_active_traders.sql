-- Active traders: distinct clients with at least one trade deal (UTC) in the period, per day
-- and per month (`period` says which). A login no CRM account names counts as its own trader.
with

deals as (
    select * from {{ ref('fct_deals') }}
),

accounts as (
    select * from {{ ref('int_crm__trading_accounts') }}
    where is_current and login is not null
),

traders as (
    select
        deals.trade_date,
        coalesce(accounts.client_id, deals.server || ':' || deals.login) as trader
    from deals
    left join accounts
        on deals.server = accounts.server and deals.login = accounts.login
),

by_day as (
    select
        'day' as period,
        trade_date as period_start,
        count(distinct trader) as active_traders
    from traders
    group by trade_date
),

by_month as (
    select
        'month' as period,
        cast(date_trunc('month', trade_date) as date) as period_start,
        count(distinct trader) as active_traders
    from traders
    group by all
)

select * from by_day
union all
select * from by_month
