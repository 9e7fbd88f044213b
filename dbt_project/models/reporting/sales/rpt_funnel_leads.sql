-- The leads behind every funnel figure, one row each: the stages reached and when, and where
-- the lead's record comes from (the CRM event that last changed it; for an imported lead, the
-- import file and row), so a count on the Sales overview opens onto its leads and their history.
with

funnel as (
    select * from {{ ref('fct_lead_funnel') }}
)

select
    lead_id,
    client_id,
    status,
    cohort_week,
    source,
    campaign_id,
    owner_agent_id,
    owner_username,
    team_id,
    country,
    partner_id,
    created_at,
    contacted_at,
    qualified_at,
    registered_at,
    kyc_approved_at,
    funded_at,
    traded_at,
    qualified_time_unknown,
    converted_without_contact,
    first_deposit_id,
    first_deposit_usd,
    _event_id as crm_event_id,
    case
        when reached_traded then 'traded'
        when reached_funded then 'funded'
        when reached_kyc_approved then 'kyc_approved'
        when reached_registered then 'registered'
        when reached_qualified then 'qualified'
        when reached_contacted then 'contacted'
        else 'created'
    end as furthest_stage,
    {{ json_text('imported_from', ['leads.csv', 'row']) }} as import_row
from funnel
