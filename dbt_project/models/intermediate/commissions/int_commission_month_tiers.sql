-- The per_lot rate table of each level-1 partner's month (commissions.md §4, rule 4): the
-- highest tier whose from_lots is at or below the month lots (the lots of the month's closing
-- deals that pass the per_lot conditions, whatever their group's rate), else the plan's own
-- rates (tier_from_lots null). Retroactive: the tier applies to every such deal of the month.
{{ config(materialized='table') }}

with

-- the month lots from the partner's days (int_commission_partner_days: exact sums)
per_lot_months as (
    select
        partner_days.l1_partner_id,
        partner_days.period,
        partner_days.plan_id,
        sum(partner_days.per_lot_lots) as month_lots
    from {{ ref('int_commission_partner_days') }} as partner_days
    where
        partner_days.per_lot_lots is not null
        and exists (
            select 1 from {{ ref('int_commission_plan_components') }} as components
            where components.plan_id = partner_days.plan_id and components.component = 'per_lot'
        )
    group by partner_days.l1_partner_id, partner_days.period, partner_days.plan_id
),

final as (
    select
        per_lot_months.l1_partner_id,
        per_lot_months.period,
        per_lot_months.plan_id,
        per_lot_months.month_lots,
        max(rates.tier_from_lots) as tier_from_lots
    from per_lot_months
    left join {{ ref('int_commission_plan_rates') }} as rates
        on
            per_lot_months.plan_id = rates.plan_id
            and per_lot_months.month_lots >= rates.tier_from_lots
    group by
        per_lot_months.l1_partner_id,
        per_lot_months.period,
        per_lot_months.plan_id,
        per_lot_months.month_lots
)

select * from final
