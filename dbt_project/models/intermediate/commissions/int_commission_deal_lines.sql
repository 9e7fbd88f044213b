-- The level-1 amounts the deals earn (commissions.md §4, rule 1: nothing earned, no line):
-- per_lot at the rate of the month's tier (int_commission_month_tiers; a table's `default` for
-- groups it does not name), spread_share at pct of the group's markup per lot up to the cap,
-- and commission_share at pct of the commission the client paid, on every eligible deal. The
-- per-lot amounts and fractions are worked out once per plan and group, not per deal. Each
-- component reads the deals table itself: a CTE read three times would be held whole (past
-- dbt's memory limit at 10M deals), and a filter on the trade date (fct_commission_lines'
-- increment) reaches the table's scan.
with

components as (
    select
        *,
        {{ times('pct', '0.01') }} as pct_fraction
    from {{ ref('int_commission_plan_components') }}
),

rates as (
    select * from {{ ref('int_commission_plan_rates') }}
),

markups as (
    select * from {{ ref('int_crm__spread_markups') }}
    where is_current
),

-- each month's rate per plan and symbol group: the tier's own rate, else its default
month_rates as (
    select
        tiers.l1_partner_id,
        tiers.period,
        tiers.tier_from_lots,
        named.symbol_group,
        named.rate
    from {{ ref('int_commission_month_tiers') }} as tiers
    inner join rates as named
        on
            tiers.plan_id = named.plan_id
            and tiers.tier_from_lots is not distinct from named.tier_from_lots
),

per_lot as (
    select
        deals.*,
        coalesce(named.tier_from_lots, fallback.tier_from_lots) as tier_from_lots,
        coalesce(named.rate, fallback.rate) as rate,
        coalesce(named.symbol_group, fallback.symbol_group) as rate_group
    from {{ ref('int_commission_eligible_deals') }} as deals
    left join month_rates as named
        on
            deals.l1_partner_id = named.l1_partner_id
            and deals.period = named.period
            and deals.symbol_group = named.symbol_group
    left join month_rates as fallback
        on
            deals.l1_partner_id = fallback.l1_partner_id
            and deals.period = fallback.period
            and fallback.symbol_group = 'default'
    where deals.earns_per_lot
),

-- spread_share's USD per lot for each plan and group: pct of the markup, up to the cap
spread_rates as (
    select
        components.plan_id,
        components.pct,
        components.cap_usd_per_lot,
        markups.symbol_group,
        markups.usd_per_lot as markup,
        least(
            {{ times('markups.usd_per_lot', 'components.pct_fraction') }},
            coalesce(
                components.cap_usd_per_lot,
                {{ times('markups.usd_per_lot', 'components.pct_fraction') }}
            )
        ) as usd_per_lot
    from components
    cross join markups
    where components.component = 'spread_share'
),

spread as (
    select
        deals.*,
        spread_rates.pct,
        spread_rates.cap_usd_per_lot,
        spread_rates.markup,
        spread_rates.usd_per_lot
    from {{ ref('int_commission_eligible_deals') }} as deals
    inner join spread_rates
        on deals.plan_id = spread_rates.plan_id and deals.symbol_group = spread_rates.symbol_group
    where deals.earns_per_lot
),

lines as (
    select
        'per_lot' as component,
        {{ commission_deal_columns() }},
        rate as line_rate,
        lots as base,
        {{ times('lots', 'rate') }} as l1_amount,
        {{ is_nonzero_at_12('lots', 'rate') }} as earns,
        rate_group || ' rate of '
        || coalesce(
            'the tier from ' || {{ decimal_text('tier_from_lots', 8) }} || ' lots',
            'the plan''s rates'
        )
        || '; hold '
        || coalesce(cast({{ integer_divide('hold_ms', 1000) }} as string) || ' s', 'unknown')
            as rule
    from per_lot
    where rate is not null
    union all
    select
        'spread_share' as component,
        {{ commission_deal_columns() }},
        usd_per_lot as line_rate,
        lots as base,
        {{ times('lots', 'usd_per_lot') }} as l1_amount,
        {{ is_nonzero_at_12('lots', 'usd_per_lot') }} as earns,
        {{ decimal_text('pct', 8) }} || '% of the ' || symbol_group || ' markup '
        || {{ decimal_text('markup', 8) }} || ' USD/lot'
        || coalesce(', capped at ' || {{ decimal_text('cap_usd_per_lot', 8) }}, '') as rule
    from spread
    union all
    select
        'commission_share' as component,
        {{ commission_deal_columns('deals') }},
        components.pct as line_rate,
        -deals.commission_usd as base,
        {{ times('-deals.commission_usd', 'components.pct_fraction') }} as l1_amount,
        {{ is_nonzero_at_12('-deals.commission_usd', 'components.pct_fraction') }} as earns,
        {{ decimal_text('components.pct', 8) }} || '% of the commission paid' as rule
    from {{ ref('int_commission_eligible_deals') }} as deals
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
        _row_number,
        trade_date
    from lines
    where earns
)

select * from final
