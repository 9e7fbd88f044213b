-- One row per trade deal, with its notional in USD and the dated rate that converted it.
with

deals as (
    -- A deal from a server not registered in the CRM has no UTC time yet: it waits in staging
    -- (rpt_unregistered_servers names the server) and comes in once the server is registered.
    select * from {{ ref('int_deals__symbol_mapped') }}
    where deal_time_utc is not null
),

rates as (
    select * from {{ ref('stg_market__fx_rates') }}
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
        cast(deals.deal_time_utc as date) as trade_date,
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
        rates.rate_date as usd_rate_date,
        rates.usd_per_unit as usd_rate,
        cast(
            cast(deals.lots * deals.instrument_contract_size * deals.price as decimal(28, 8))
            * rates.usd_per_unit
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
    left join rates
        on
            deals.quote_currency = rates.currency
            and cast(deals.deal_time_utc as date) = rates.rate_date
)

select * from converted
