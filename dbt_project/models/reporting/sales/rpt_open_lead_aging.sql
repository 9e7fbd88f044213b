-- Open leads (new, contacted, qualified) by owner and age since creation, in days at build time
-- (as_of): 0-2, 3-7, 8-30 and over 30 (30+).
with

funnel as (
    select * from {{ ref('fct_lead_funnel') }}
    where status in ('new', 'contacted', 'qualified')
),

aged as (
    select
        *,
        {{ days_between('created_at', as_of()) }} as age_days
    from funnel
),

bucketed as (
    select
        *,
        {{ age_bucket('age_days') }} as age_bucket,
        case
            when age_days <= 2 then 1
            when age_days <= 7 then 2
            when age_days <= 30 then 3
            else 4
        end as age_bucket_order
    from aged
),

counted as (
    select
        owner_agent_id,
        owner_username,
        team_id,
        age_bucket,
        age_bucket_order,
        count(*) as open_leads,
        max(age_days) as oldest_days
    from bucketed
    group by all
)

select * from counted
