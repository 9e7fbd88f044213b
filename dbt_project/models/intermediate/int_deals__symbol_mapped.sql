-- Trades with the broker's symbol mapped to a canonical instrument, and volume in lots for every
-- platform (cTrader counts units: lots = units / contract size). Unmapped symbols keep their
-- deals, so no trade is missed. A table (on every engine): the commission models read it six
-- times a build (the day fingerprints and the deal table each read the deals, apart their
-- openings, and through int_commission_day_rates their dates) and fct_deals once more; as a
-- view each read ran the deal versions' windows over every raw deal again, and at 1M deals
-- two of them in one query ran out of dbt's 1 GB.
{{ config(materialized='table') }}
with

deals as (
    select * from {{ ref('int_platform__deals') }}
    where action_name in ('buy', 'sell')
),

symbol_map as (
    select * from {{ ref('int_symbol_map') }}
),

final as (
    select
        {{ star_except(['lots'], 'deals') }},
        symbol_map.canonical_symbol,
        symbol_map.symbol_group,
        symbol_map.quote_currency,
        coalesce(symbol_map.contract_size, deals.contract_size) as instrument_contract_size,
        coalesce(
            deals.lots,
            cast(
                deals.units / coalesce(symbol_map.contract_size, deals.contract_size)
                as decimal(18, 8)
            )
        ) as lots
    from deals
    left join symbol_map
        on deals.server = symbol_map.server and deals.raw_symbol = symbol_map.raw_symbol
)

select * from final
