-- What the commission lines are computed from, summed into fingerprints, so an incremental
-- build of fct_commission_lines can tell what changed since the last one: per trade date, the
-- eligible deals with every column a deal's lines depend on (its level-1 partner and plan,
-- hold, USD amounts, lineage: late deals, corrections, link, plan assignment, account, rate
-- and hold changes all show in their day); per level-1 partner and month, its plan and tier
-- (a tier reached later in the month re-rates the whole month); and once, the terms every line
-- reads (plans, rate tables, splits, markups, the partner tree), whose change rebuilds all.
{{ config(materialized='table') }}

with

days as (
    select
        'day' as kind,
        trade_date,
        cast(null as varchar) as l1_partner_id,
        cast(null as varchar) as period,
        count(*) || ':' || sum(hash(
            server, ticket, entry, deal_time_utc, login, position_id, client_id, l1_partner_id,
            plan_id, symbol_group, lots, earns_per_lot, hold_ms // 1000, commission_usd,
            client_pnl_usd, _source_file, _batch_id, _row_number
        )) as fingerprint
    from {{ ref('int_commission_eligible_deals') }}
    group by trade_date
),

tiers as (
    select
        'tier' as kind,
        cast(null as date) as trade_date,
        l1_partner_id,
        period,
        plan_id || ':' || coalesce(cast(tier_from_lots as varchar), 'plan rates') as fingerprint
    from {{ ref('int_commission_month_tiers') }}
),

terms as (
    select
        'terms' as kind,
        cast(null as date) as trade_date,
        cast(null as varchar) as l1_partner_id,
        cast(null as varchar) as period,
        concat_ws(
            ':',
            (
                select sum(hash(term_rows))
                from {{ ref('int_commission_plans') }} as term_rows  -- noqa: AL05
            ),
            (
                select sum(hash(term_rows))
                from {{ ref('int_commission_plan_components') }} as term_rows  -- noqa: AL05
            ),
            (
                select sum(hash(term_rows))
                from {{ ref('int_commission_plan_rates') }} as term_rows  -- noqa: AL05
            ),
            (
                select sum(hash(term_rows))
                from {{ ref('int_commission_plan_splits') }} as term_rows  -- noqa: AL05
            ),
            (
                select sum(hash(term_rows))
                from {{ ref('int_commission_uplines') }} as term_rows  -- noqa: AL05
            ),
            (
                select sum(hash(symbol_group, usd_per_lot))
                from {{ ref('int_crm__spread_markups') }}
                where is_current
            )
        ) as fingerprint
)

select * from days
union all
select * from tiers
union all
select * from terms
