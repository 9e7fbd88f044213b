-- Which plan a partner is on from which month start to the next assignment (§1): the plan in
-- force for a month is the latest assignment at or before its start; a blank plan ends it.
with

assignments as (
    select * from {{ ref('int_crm__partner_plans') }}
    where is_current
),

final as (
    select
        partner_id,
        plan_id,
        effective_from as plan_from,
        lead(effective_from) over (
            partition by partner_id order by effective_from
        ) as plan_to
    from assignments
)

select * from final
