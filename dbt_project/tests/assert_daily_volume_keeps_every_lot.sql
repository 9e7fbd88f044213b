-- The report must carry every lot of fct_deals: a lost join or filter shows as a difference.
with

report as (
    select
        coalesce(sum(lots), 0) as lots,
        coalesce(sum(deals), 0) as deals
    from {{ ref('rpt_daily_trading_volume') }}
),

deals as (
    select
        coalesce(sum(lots), 0) as lots,
        count(*) as deals
    from {{ ref('fct_deals') }}
)

select
    report.lots as report_lots,
    deals.lots as deal_lots
from report cross join deals
where report.lots != deals.lots or report.deals != deals.deals
