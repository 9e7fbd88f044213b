-- Trades (buys and sells) with the broker's symbol mapped to a canonical instrument.
-- A symbol that maps to nothing keeps its deals, in the group 'unmapped', so no trade is missed.
with

deals as (
    select * from {{ ref('stg_mt5__deals') }}
    where action_name in ('buy', 'sell')
),

symbols as (
    select * from {{ ref('symbols') }}
),

mapped as (
    select
        deals.*,
        {{ canonical_symbol('deals.raw_symbol') }} as canonical_symbol
    from deals
),

final as (
    select
        mapped.*,
        symbols.quote_currency,
        coalesce(symbols.symbol_group, 'unmapped') as symbol_group,
        coalesce(symbols.contract_size, mapped.contract_size) as instrument_contract_size
    from mapped
    left join symbols on mapped.canonical_symbol = symbols.canonical_symbol
)

select * from final
