-- First contact against the SLA (var first_contact_sla_hours, 24 by default), at
-- rpt_lead_funnel's grain. A lead is due once its SLA window has closed or it was
-- contacted; it is in time when its first activity came within the window.
with

funnel as (
    select * from {{ ref('fct_lead_funnel') }}
),

measured as (
    select
        *,
        {{ var('first_contact_sla_hours') }} as sla_hours,
        contacted_at <= created_at + interval {{ var('first_contact_sla_hours') }} hour
            as contacted_in_time,
        contacted_at is not null
        or created_at + interval {{ var('first_contact_sla_hours') }} hour <= {{ as_of() }}
            as sla_due
    from funnel
),

counted as (
    select
        cohort_week,
        source,
        campaign_id,
        owner_agent_id,
        team_id,
        country,
        partner_id,
        sla_hours,
        count(*) filter (where sla_due) as leads_due,
        count(*) filter (where contacted_in_time) as contacted_in_time,
        count(*) filter (where sla_due and not coalesce(contacted_in_time, false)) as missed
    from measured
    group by all
),

shared as (
    select
        *,
        {{ round_half_up('contacted_in_time / nullif(leads_due, 0)', 4) }} as share_in_time
    from counted
)

select * from shared
