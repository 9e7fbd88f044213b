-- A deal converts at the rate of its UTC day or, without one, the latest earlier rate: never a
-- later rate, and never an older one while a nearer rate exists. Lists each deal that breaks it.
-- A check on fct_deals in Dagster (it reads two models, so it names the one it checks).
{{ config(meta={'dagster': {'ref': {'name': 'fct_deals'}}}) }}

with

deals as (
    select * from {{ ref('fct_deals') }}
),

rates as (
    select * from {{ ref('stg_market__fx_rates') }}
)

select
    deals.server,
    deals.deal_ticket,
    deals.entry,
    deals.trade_date,
    deals.quote_currency,
    deals.usd_rate_date
from deals
where
    deals.usd_rate_date > deals.trade_date
    or exists (
        select 1
        from rates
        where
            rates.currency = deals.quote_currency
            and rates.rate_date <= deals.trade_date
            and (deals.usd_rate_date is null or rates.rate_date > deals.usd_rate_date)
    )
