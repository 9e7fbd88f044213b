-- Current leads by status and owner: the sales pipeline, as the Lead pipeline page shows it.
with

leads as (
    select * from {{ ref('int_crm__leads') }}
    where is_current
),

counted as (
    select
        status,
        coalesce(owner, '(unassigned)') as lead_owner,
        count(*) as leads,
        count(first_contacted_at) as contacted_leads,
        max(valid_from) as latest_change_at
    from leads
    group by status, coalesce(owner, '(unassigned)')
)

select * from counted
