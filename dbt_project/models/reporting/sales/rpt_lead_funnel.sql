-- Leads reaching each funnel stage, by weekly cohort (ISO week of creation), source, campaign,
-- owning agent, team, country and partner. Each stage counts a lead only when it reached every
-- earlier one (fct_lead_funnel), so the columns never grow from left to right.
with

funnel as (
    select * from {{ ref('fct_lead_funnel') }}
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
        count(*) as created,
        count(*) filter (where reached_contacted) as contacted,
        count(*) filter (where reached_qualified) as qualified,
        count(*) filter (where reached_registered) as registered,
        count(*) filter (where reached_kyc_approved) as kyc_approved,
        count(*) filter (where reached_funded) as funded,
        count(*) filter (where reached_traded) as traded
    from funnel
    group by all
)

select * from counted
