-- Follow-ups due and not done at build time (as_of), by the agent owning them: how many, the
-- oldest due time and the longest overdue in hours.
with

follow_ups as (
    select * from {{ ref('int_crm__follow_ups') }}
    where is_current and status = 'open' and due_at < {{ as_of() }}
),

staff_users as (
    select * from {{ ref('int_crm__users') }}
    where is_current
),

leads as (
    select * from {{ ref('fct_lead_funnel') }}
),

owned as (
    select
        follow_ups.follow_up_id,
        follow_ups.due_at,
        leads.team_id,
        coalesce(staff_users.agent_id, leads.owner_agent_id) as owner_agent_id,
        coalesce(staff_users.username, leads.owner_username) as owner_username
    from follow_ups
    left join staff_users on follow_ups.owner_id = staff_users.user_id
    left join leads on follow_ups.lead_id = leads.lead_id
),

counted as (
    select
        owner_agent_id,
        owner_username,
        team_id,
        count(*) as overdue_follow_ups,
        min(due_at) as oldest_due_at,
        {{ round_half_up('max(' ~ hours_between('due_at', as_of()) ~ ')', 1) }}
            as most_overdue_hours
    from owned
    group by all
)

select * from counted
