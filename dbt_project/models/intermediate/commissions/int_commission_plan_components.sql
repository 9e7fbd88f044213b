-- One row per plan and component, its terms typed (rule 13's defaults for cpa): pct and cap
-- for the shares, the cpa's amount, deposit, lots and window. A component's rates are in
-- int_commission_plan_rates.
with

plans as (
    select * from {{ ref('int_crm__commission_plans') }}
    where is_current
),

components as (
    select
        plans.plan_id,
        component.value as terms
    from plans {{ json_rows('plans.components', 'component', 'list') }}
),

final as (
    select
        plan_id,
        cast({{ json_text('terms', 'pct') }} as decimal(18, 8)) as pct,
        cast({{ json_text('terms', 'cap_usd_per_lot') }} as decimal(18, 8)) as cap_usd_per_lot,
        cast({{ json_text('terms', 'amount_usd') }} as decimal(18, 8)) as amount_usd,
        cast(coalesce({{ json_text('terms', 'min_deposit_usd') }}, '0') as decimal(18, 8))
            as min_deposit_usd,
        cast(coalesce({{ json_text('terms', 'min_lots') }}, '0') as decimal(18, 8)) as min_lots,
        cast({{ json_text('terms', 'within_days') }} as decimal(18, 8)) as within_days,
        {{ json_text('terms', 'type') }} as component
    from components
)

select * from final
