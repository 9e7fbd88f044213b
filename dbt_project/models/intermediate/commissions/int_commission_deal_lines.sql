-- The level-1 amounts the deals earn (commissions.md §4, rule 1: nothing earned, no line):
-- per_lot at the rate of the month's tier (retroactive: the highest tier whose from_lots is at
-- or below the partner's month lots, else the plan's rates; a table's `default` for groups it
-- does not name), spread_share at pct of the group's markup per lot up to the cap, and
-- commission_share at pct of the commission the client paid, on every eligible deal.
with

deals as (
    select * from {{ ref('int_commission_eligible_deals') }}
),

components as (
    select * from {{ ref('int_commission_plan_components') }}
),

rates as (
    select * from {{ ref('int_commission_plan_rates') }}
),

markups as (
    select * from {{ ref('stg_crm__spread_markups') }}
    where is_current
),

per_lot_deals as (
    select
        *,
        sum(lots) over (partition by l1_partner_id, period) as month_lots
    from deals
    where
        earns_per_lot
        and exists (
            select 1 from components
            where components.plan_id = deals.plan_id and components.component = 'per_lot'
        )
),

tiers as (
    select
        per_lot_deals.l1_partner_id,
        per_lot_deals.period,
        max(rates.tier_from_lots) as tier_from_lots
    from (select distinct
        l1_partner_id,
        period,
        plan_id,
        month_lots
    from per_lot_deals)
        as per_lot_deals
    inner join rates
        on
            per_lot_deals.plan_id = rates.plan_id
            and per_lot_deals.month_lots >= rates.tier_from_lots
    group by per_lot_deals.l1_partner_id, per_lot_deals.period
),

per_lot as (
    select
        per_lot_deals.*,
        tiers.tier_from_lots,
        coalesce(named.rate, fallback.rate) as rate,
        coalesce(named.symbol_group, fallback.symbol_group) as rate_group
    from per_lot_deals
    left join tiers
        on
            per_lot_deals.l1_partner_id = tiers.l1_partner_id
            and per_lot_deals.period = tiers.period
    left join rates as named
        on
            per_lot_deals.plan_id = named.plan_id
            and named.tier_from_lots is not distinct from tiers.tier_from_lots
            and per_lot_deals.symbol_group = named.symbol_group
    left join rates as fallback
        on
            per_lot_deals.plan_id = fallback.plan_id
            and fallback.tier_from_lots is not distinct from tiers.tier_from_lots
            and fallback.symbol_group = 'default'
),

spread as (
    select
        deals.*,
        components.pct,
        components.cap_usd_per_lot,
        markups.usd_per_lot as markup,
        least(
            {{ percent_of('components.pct', 'markups.usd_per_lot') }},
            coalesce(
                components.cap_usd_per_lot,
                {{ percent_of('components.pct', 'markups.usd_per_lot') }}
            )
        ) as usd_per_lot
    from deals
    inner join components
        on deals.plan_id = components.plan_id and components.component = 'spread_share'
    inner join markups on deals.symbol_group = markups.symbol_group
    where deals.earns_per_lot
),

lines as (
    select
        'per_lot' as component,
        *,
        rate as line_rate,
        lots as base,
        {{ times('lots', 'rate') }} as l1_amount,
        rate_group || ' rate of '
        || coalesce('the tier from ' || tier_from_lots || ' lots', 'the plan''s rates')
        || ' (month lots ' || month_lots || '); hold '
        || coalesce(cast(hold_ms // 1000 as varchar) || ' s', 'unknown') as rule
    from per_lot
    where rate is not null
    union all by name
    select
        'spread_share' as component,
        *,
        usd_per_lot as line_rate,
        lots as base,
        {{ times('lots', 'usd_per_lot') }} as l1_amount,
        pct || '% of the ' || symbol_group || ' markup ' || markup || ' USD/lot'
        || coalesce(', capped at ' || cap_usd_per_lot, '') as rule
    from spread
    union all by name
    select
        'commission_share' as component,
        deals.*,
        components.pct as line_rate,
        -deals.commission_usd as base,
        {{ percent_of('components.pct', '-deals.commission_usd') }} as l1_amount,
        components.pct || '% of the commission paid' as rule
    from deals
    inner join components
        on deals.plan_id = components.plan_id and components.component = 'commission_share'
),

final as (
    select
        component,
        'deal' as source,
        l1_partner_id,
        plan_id,
        period,
        deal_time_utc as line_time,
        client_id,
        symbol_group,
        rule,
        line_rate as rate,
        base,
        l1_amount,
        server,
        ticket,
        login,
        position_id,
        entry,
        cast(null as bigint) as deposit_ticket,
        cast(null as timestamp) as deposit_time_utc,
        _source_file,
        _batch_id,
        _row_number
    from lines
    where l1_amount != 0
)

select * from final
