-- Each plan's split: the percent level k receives of a level-1 amount (default [100]).
with

plans as (
    select * from {{ ref('int_crm__commission_plans') }}
    where is_current
),

final as (
    select
        plans.plan_id,
        cast({{ json_scalar('split_share.value') }} as decimal(9, 4)) as split_pct,
        cast(split_share.key as integer) + 1 as level
    from plans {{ json_rows("coalesce(plans.split, '[100]')", 'split_share', 'list') }}
)

select * from final
