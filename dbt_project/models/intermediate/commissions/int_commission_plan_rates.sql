-- per_lot's rate tables, one row per plan, table and symbol group: the plan's `rates`
-- (tier_from_lots null) and each tier's (rule 4: a tier is a self-contained table). The
-- group `default` applies to the groups a table does not name. A table that names no group
-- (`rates: {}`, or a tier without rates) keeps one row with no group and no rate, so that its
-- tier still applies from its from_lots and pays nothing, as the contract's self-contained
-- tables say; without the row the tier below would apply and pay.
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

named_rates as (
    select
        rate_tables.plan_id,
        rate_tables.tier_from_lots,
        rate.key as symbol_group,
        cast({{ json_scalar('rate.value') }} as decimal(18, 8)) as rate
    from rate_tables {{ json_rows('rate_tables.rates', 'rate', 'object') }}
),

named_tables as (
    select distinct
        plan_id,
        tier_from_lots
    from named_rates
),

final as (
    select * from named_rates
    union all
    select
        rate_tables.plan_id,
        rate_tables.tier_from_lots,
        cast(null as string) as symbol_group,
        cast(null as decimal(18, 8)) as rate
    from rate_tables
    left join named_tables
        on
            rate_tables.plan_id = named_tables.plan_id
            and rate_tables.tier_from_lots is not distinct from named_tables.tier_from_lots
    where named_tables.plan_id is null
)

select * from final
