-- Agents by month of their leads' creation: leads owned, and of those contacted, converted
-- (registered as clients), funded (the funnel's rule: every earlier stage reached), the first
-- deposits' USD and the median hours to first contact.
with

funnel as (
    select * from {{ ref('fct_lead_funnel') }}
    where owner_agent_id is not null
),

ranked as (
    select
        cast(date_trunc('month', created_at) as date) as lead_month,
        owner_agent_id,
        owner_username,
        team_id,
        count(*) as leads_owned,
        count(*) filter (where reached_contacted) as contacted,
        count(*) filter (where reached_registered) as converted,
        count(*) filter (where reached_funded) as funded,
        coalesce(sum(first_deposit_usd), 0) as first_deposit_usd,
        {{ quantile_hours(seconds_between('created_at', 'contacted_at'), 0.5) }}
            as median_first_contact_hours
    from funnel
    group by all
)

select * from ranked
