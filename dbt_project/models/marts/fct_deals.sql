-- One row per trade deal, with its notional in USD and the dated rate that converted it: the
-- rate of the deal's UTC date or, where that date has none (a weekend, a holiday, a gap in the
-- rates file), the latest earlier one (commissions.md section 3).
with

deals as (
    -- A deal from a server not registered in the CRM has no UTC time yet: it waits in
    -- int_platform__deals (rpt_unregistered_servers names the server) and comes in once the
    -- server is registered.
    select
        *,
        cast(deal_time_utc as date) as trade_date
    from {{ ref('int_deals__symbol_mapped') }}
    where deal_time_utc is not null
),

rates as (
    select * from {{ ref('stg_market__fx_rates') }}
),

-- One row per currency and day traded, with the date of the rate that converts it. Plain SQL
-- (an inequality join and max) over a few hundred pairs, so it runs on any adapter.
traded_days as (
    select distinct
        quote_currency,
        trade_date
    from deals
),

rate_dates as (
    select
        traded_days.quote_currency,
        traded_days.trade_date,
        max(rates.rate_date) as rate_date
    from traded_days
    inner join rates
        on
            traded_days.quote_currency = rates.currency
            and traded_days.trade_date >= rates.rate_date
    group by traded_days.quote_currency, traded_days.trade_date
),

deal_rates as (
    select
        rate_dates.quote_currency,
        rate_dates.trade_date,
        rates.rate_date,
        rates.usd_per_unit
    from rate_dates
    inner join rates
        on
            rate_dates.quote_currency = rates.currency
            and rate_dates.rate_date = rates.rate_date
),

converted as (
    select
        deals.platform,
        deals.server,
        deals.deal_ticket,
        deals.position_id,
        deals.login,
        deals.deal_time_utc,
        deals.deal_time_server,
        deals.trade_date,
        deals.action_name as side,
        deals.entry_name as entry,
        deals.raw_symbol,
        deals.canonical_symbol,
        deals.symbol_group,
        deals.lots,
        deals.price,
        deals.instrument_contract_size as contract_size,
        deals.quote_currency,
        cast(deals.lots * deals.instrument_contract_size * deals.price as decimal(24, 2))
            as notional_quote,
        deal_rates.rate_date as usd_rate_date,
        deal_rates.usd_per_unit as usd_rate,
        cast(
            cast(deals.lots * deals.instrument_contract_size * deals.price as decimal(28, 8))
            * deal_rates.usd_per_unit
            as decimal(24, 2)
        ) as notional_usd,
        deals.profit,
        deals.swap,
        deals.commission,
        deals.fee,
        deals._source_file,
        deals._batch_id,
        deals._row_number
    from deals
    left join deal_rates
        on
            deals.quote_currency = deal_rates.quote_currency
            and deals.trade_date = deal_rates.trade_date
)

select * from converted
