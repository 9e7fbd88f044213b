-- Each plan's own terms (commissions.md §2, defaults of rule 13): its min hold in
-- milliseconds and the symbol groups it excludes. Plans are read in their current version.
with

plans as (
    select * from {{ ref('int_crm__commission_plans') }}
    where is_current
),

final as (
    select
        plan_id,
        name as plan_name,
        cast(coalesce(min_hold_seconds, 0) as bigint) * 1000 as min_hold_ms,
        {{ json_string_list('exclude_symbol_groups') }} as exclude_symbol_groups
    from plans
)

select * from final
