-- per_lot's rate tables, one row per plan, table and symbol group: the plan's `rates`
-- (tier_from_lots null) and each tier's (rule 4: a tier is a self-contained table). The
-- group `default` applies to the groups a table does not name.
with

per_lot as (
    select
        commission_plans.plan_id,
        component.value as terms
    from {{ ref('int_crm__commission_plans') }} as commission_plans
    {{ json_rows('commission_plans.components', 'component', 'list') }}
    where commission_plans.is_current and {{ json_text('component.value', 'type') }} = 'per_lot'
),

rate_tables as (
    select
        plan_id,
        cast(null as decimal(18, 8)) as tier_from_lots,
        {{ json_text('terms', 'rates') }} as rates
    from per_lot
    where {{ json_text('terms', 'rates') }} is not null
    union all
    select
        per_lot.plan_id,
        cast({{ json_text('tier.value', 'from_lots') }} as decimal(18, 8)) as tier_from_lots,
        {{ json_text('tier.value', 'rates') }} as rates
    from per_lot {{ json_rows(json_text('per_lot.terms', 'tiers'), 'tier', 'list') }}
),

final as (
    select
        rate_tables.plan_id,
        rate_tables.tier_from_lots,
        rate.key as symbol_group,
        cast({{ json_scalar('rate.value') }} as decimal(18, 8)) as rate
    from rate_tables {{ json_rows('rate_tables.rates', 'rate', 'object') }}
)

select * from final
