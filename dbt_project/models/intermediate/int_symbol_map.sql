-- The symbol map: every symbol a server has traded, with the instrument it is. Brokers decorate
-- symbols per account type (EURUSD.m, eurusd., EURUSD-r); the canonical symbol drops that. A
-- symbol that maps to nothing stays, in the group 'unmapped', and a warning test names it.
with

traded as (
    select distinct
        platform,
        server,
        raw_symbol
    from {{ ref('int_platform__deals') }}
),

symbols as (
    select * from {{ ref('symbols') }}
),

mapped as (
    select
        platform,
        server,
        raw_symbol,
        {{ canonical_symbol('raw_symbol') }} as canonical_symbol
    from traded
),

final as (
    select
        mapped.platform,
        mapped.server,
        mapped.raw_symbol,
        mapped.canonical_symbol,
        symbols.base_currency,
        symbols.quote_currency,
        symbols.contract_size,
        symbols.digits,
        coalesce(symbols.symbol_group, 'unmapped') as symbol_group
    from mapped
    left join symbols on mapped.canonical_symbol = symbols.canonical_symbol
)

select * from final
