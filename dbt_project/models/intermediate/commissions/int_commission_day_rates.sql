-- The USD rate each account currency has on each trade date of the deals (commissions.md §3):
-- the rate of that date or, where it has none, of the latest earlier one; null where there is
-- none on or before the date (int_commission_deals stops the build for a deal there, rule 14).
-- USD is 1 and has no row.
with

currencies as (
    select distinct currency from {{ ref('int_commission_accounts') }}
    where currency != 'USD'
),

trade_dates as (
    select distinct cast(deal_time_utc as date) as trade_date
    from {{ ref('int_deals__symbol_mapped') }}
    where deal_time_utc is not null
),

rates as (
    select * from {{ ref('stg_market__fx_rates') }}
),

rate_dates as (
    select
        currencies.currency,
        trade_dates.trade_date,
        max(rates.rate_date) as rate_date
    from currencies
    cross join trade_dates
    left join
        rates
        on currencies.currency = rates.currency and trade_dates.trade_date >= rates.rate_date
    group by currencies.currency, trade_dates.trade_date
),

final as (
    select
        rate_dates.currency,
        rate_dates.trade_date,
        rate_dates.rate_date,
        rates.usd_per_unit
    from rate_dates
    left join rates
        on rate_dates.currency = rates.currency and rate_dates.rate_date = rates.rate_date
)

select * from final
