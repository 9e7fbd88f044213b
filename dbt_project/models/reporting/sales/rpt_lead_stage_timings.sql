-- Hours between consecutive funnel stages, median and 90th percentile, at rpt_lead_funnel's
-- grain. A pair counts a lead where both stages were reached at a known time (a qualified
-- stage imported without its history has none, so it is left out of the two pairs around it).
with

funnel as (
    select * from {{ ref('fct_lead_funnel') }}
),

lead_hours as (
    select
        cohort_week,
        source,
        campaign_id,
        owner_agent_id,
        team_id,
        country,
        partner_id,
        {{ hours_between('created_at', 'contacted_at') }} as created_to_contacted,
        {{ hours_between('contacted_at', 'qualified_at') }} as contacted_to_qualified,
        {{ hours_between('qualified_at', 'registered_at') }} as qualified_to_registered,
        {{ hours_between('registered_at', 'kyc_approved_at') }} as registered_to_kyc_approved,
        {{ hours_between('kyc_approved_at', 'funded_at') }} as kyc_approved_to_funded,
        {{ hours_between('funded_at', 'traded_at') }} as funded_to_traded
    from funnel
),

timed as (
    select
        cohort_week,
        source,
        campaign_id,
        owner_agent_id,
        team_id,
        country,
        partner_id,
        {{ round_half_up('median(created_to_contacted)', 2) }} as created_to_contacted_median_hours,
        {{ round_half_up(quantile_cont('created_to_contacted', 0.9), 2) }}
            as created_to_contacted_p90_hours,
        {{ round_half_up('median(contacted_to_qualified)', 2) }}
            as contacted_to_qualified_median_hours,
        {{ round_half_up(quantile_cont('contacted_to_qualified', 0.9), 2) }}
            as contacted_to_qualified_p90_hours,
        {{ round_half_up('median(qualified_to_registered)', 2) }}
            as qualified_to_registered_median_hours,
        {{ round_half_up(quantile_cont('qualified_to_registered', 0.9), 2) }}
            as qualified_to_registered_p90_hours,
        {{ round_half_up('median(registered_to_kyc_approved)', 2) }}
            as registered_to_kyc_approved_median_hours,
        {{ round_half_up(quantile_cont('registered_to_kyc_approved', 0.9), 2) }}
            as registered_to_kyc_approved_p90_hours,
        {{ round_half_up('median(kyc_approved_to_funded)', 2) }}
            as kyc_approved_to_funded_median_hours,
        {{ round_half_up(quantile_cont('kyc_approved_to_funded', 0.9), 2) }}
            as kyc_approved_to_funded_p90_hours,
        {{ round_half_up('median(funded_to_traded)', 2) }} as funded_to_traded_median_hours,
        {{ round_half_up(quantile_cont('funded_to_traded', 0.9), 2) }}
            as funded_to_traded_p90_hours,
        count(*) as leads
    from lead_hours
    group by all
)

select * from timed
