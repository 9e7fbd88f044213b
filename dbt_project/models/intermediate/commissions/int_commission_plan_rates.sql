-- per_lot's rate tables, one row per plan, table and symbol group: the plan's `rates`
-- (tier_from_lots null) and each tier's (rule 4: a tier is a self-contained table). The
-- group `default` applies to the groups a table does not name.
with

per_lot as (
    select
        commission_plans.plan_id,
        component.value as terms
    from {{ ref('int_crm__commission_plans') }} as commission_plans,
        json_each(commission_plans.components) as component
    where commission_plans.is_current and (component.value ->> 'type') = 'per_lot'
),

tables as (
    select
        plan_id,
        cast(null as decimal(18, 8)) as tier_from_lots,
        terms -> 'rates' as rates
    from per_lot
    where (terms -> 'rates') is not null
    union all
    select
        per_lot.plan_id,
        cast(tier.value ->> 'from_lots' as decimal(18, 8)) as tier_from_lots,
        tier.value -> 'rates' as rates
    from per_lot, json_each(per_lot.terms -> 'tiers') as tier
),

final as (
    select
        tables.plan_id,
        tables.tier_from_lots,
        rate.key as symbol_group,
        cast(rate.value ->> '$' as decimal(18, 8)) as rate
    from tables, json_each(tables.rates) as rate
)

select * from final
