-- Every trade deal (current version) on an account the CRM knows (commissions.md §3), with its
-- client, whether the account is excluded, whether it closes, its hold time and its money in
-- USD at the rate of its UTC date or the latest earlier one (USD is 1). A currency with no
-- rate on or before a deal's date stops the build naming both (rule 14).
{{ config(materialized='table') }}

with

deals as (
    select * from {{ ref('int_deals__symbol_mapped') }}
    where deal_time_utc is not null
),

accounts as (
    select
        server,
        login,
        client_id,
        currency,
        coalesce(commission_excluded, false) as commission_excluded
    from {{ ref('int_crm__trading_accounts') }}
    where is_current and login is not null
),

rates as (
    select * from {{ ref('stg_market__fx_rates') }}
),

openings as (
    select
        server,
        login,
        position_id,
        min(deal_time_utc) as opened_at
    from deals
    where entry_name = 'in'
    group by server, login, position_id
),

known as (
    select
        deals.server,
        deals.deal_ticket as ticket,
        deals.login,
        deals.position_id,
        deals.entry_name as entry,
        deals.deal_time_utc,
        cast(deals.deal_time_utc as date) as trade_date,
        deals.lots,
        deals.profit,
        deals.swap,
        deals.commission,
        deals.fee,
        accounts.client_id,
        accounts.currency,
        accounts.commission_excluded,
        deals._source_file,
        deals._batch_id,
        deals._row_number,
        {{ format_time('deals.deal_time_utc', '%Y-%m') }} as period,
        date_trunc('month', deals.deal_time_utc) as month_start,
        coalesce(deals.symbol_group, 'unmapped') as symbol_group,
        deals.entry_name in ('out', 'out_by') as is_closing,
        {{ epoch_ms('deals.deal_time_utc') }} - {{ epoch_ms('openings.opened_at') }} as hold_ms
    from deals
    inner join accounts on deals.server = accounts.server and deals.login = accounts.login
    left join openings
        on
            deals.server = openings.server
            and deals.login = openings.login
            and deals.position_id = openings.position_id
),

rate_dates as (
    select
        currency_days.currency,
        currency_days.trade_date,
        max(rates.rate_date) as rate_date
    from (select distinct
        currency,
        trade_date
    from known
    where currency != 'USD') as currency_days
    left join
        rates
        on currency_days.currency = rates.currency and currency_days.trade_date >= rates.rate_date
    group by currency_days.currency, currency_days.trade_date
),

day_rates as (
    select
        rate_dates.currency,
        rate_dates.trade_date,
        case
            when rate_dates.rate_date is null
                then {{ raise_error(
                    "'commissions: no USD rate for ' || rate_dates.currency || ' on or before '
                    || cast(rate_dates.trade_date as string)"
                ) }}
            else rates.usd_per_unit
        end as usd_rate
    from rate_dates
    left join rates
        on rate_dates.currency = rates.currency and rate_dates.rate_date = rates.rate_date
),

final as (
    select
        known.*,
        coalesce(day_rates.usd_rate, 1) as usd_rate
    from known
    left join day_rates
        on known.currency = day_rates.currency and known.trade_date = day_rates.trade_date
)

select * from final
