-- Hours between consecutive funnel stages, median and 90th percentile, at rpt_lead_funnel's
-- grain: exact quantiles of whole seconds (quantile_hours), so DuckDB and Spark agree to the
-- last digit. A pair counts a lead where both stages were reached at a known time (a qualified
-- stage imported without its history has none, so it is left out of the two pairs around it).
with

funnel as (
    select * from {{ ref('fct_lead_funnel') }}
),

lead_seconds as (
    select
        cohort_week,
        source,
        campaign_id,
        owner_agent_id,
        team_id,
        country,
        partner_id,
        {{ seconds_between('created_at', 'contacted_at') }} as created_to_contacted,
        {{ seconds_between('contacted_at', 'qualified_at') }} as contacted_to_qualified,
        {{ seconds_between('qualified_at', 'registered_at') }} as qualified_to_registered,
        {{ seconds_between('registered_at', 'kyc_approved_at') }} as registered_to_kyc_approved,
        {{ seconds_between('kyc_approved_at', 'funded_at') }} as kyc_approved_to_funded,
        {{ seconds_between('funded_at', 'traded_at') }} as funded_to_traded
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
        {{ quantile_hours('created_to_contacted', 0.5) }} as created_to_contacted_median_hours,
        {{ quantile_hours('created_to_contacted', 0.9) }}
            as created_to_contacted_p90_hours,
        {{ quantile_hours('contacted_to_qualified', 0.5) }}
            as contacted_to_qualified_median_hours,
        {{ quantile_hours('contacted_to_qualified', 0.9) }}
            as contacted_to_qualified_p90_hours,
        {{ quantile_hours('qualified_to_registered', 0.5) }}
            as qualified_to_registered_median_hours,
        {{ quantile_hours('qualified_to_registered', 0.9) }}
            as qualified_to_registered_p90_hours,
        {{ quantile_hours('registered_to_kyc_approved', 0.5) }}
            as registered_to_kyc_approved_median_hours,
        {{ quantile_hours('registered_to_kyc_approved', 0.9) }}
            as registered_to_kyc_approved_p90_hours,
        {{ quantile_hours('kyc_approved_to_funded', 0.5) }}
            as kyc_approved_to_funded_median_hours,
        {{ quantile_hours('kyc_approved_to_funded', 0.9) }}
            as kyc_approved_to_funded_p90_hours,
        {{ quantile_hours('funded_to_traded', 0.5) }} as funded_to_traded_median_hours,
        {{ quantile_hours('funded_to_traded', 0.9) }}
            as funded_to_traded_p90_hours,
        count(*) as leads
    from lead_seconds
    group by all
)

select * from timed
