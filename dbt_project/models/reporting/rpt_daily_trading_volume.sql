-- Lots, deals and USD notional traded per UTC day, login and symbol group.
-- Each row is traced to its deals in fct_deals by (server, login, trade_date, symbol_group).
with

deals as (
    select * from {{ ref('fct_deals') }}
),

daily as (
    select
        trade_date,
        platform,
        server,
        login,
        symbol_group,
        count(*) as deals,
        sum(lots) as lots,
        sum(notional_usd) as notional_usd,
        min(deal_ticket) as first_deal_ticket,
        max(deal_ticket) as last_deal_ticket
    from deals
    group by trade_date, platform, server, login, symbol_group
)

select * from daily
