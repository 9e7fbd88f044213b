-- One row per lead: how far down the funnel it got. A stage counts only when every earlier one
-- was reached, so a lead converted without any recorded activity stays at `created` (and is
-- flagged converted_without_contact), and a stage's time is kept only where the stage counts.
with

stages as (
    select * from {{ ref('int_lead_stage_times') }}
),

reached as (
    select
        *,
        contacted_at is not null as reached_contacted
    from stages
),

reached_qualified as (
    select
        *,
        reached_contacted and qualified_status_reached as reached_qualified
    from reached
),

reached_registered as (
    select
        *,
        reached_qualified and registered_at is not null as reached_registered
    from reached_qualified
),

reached_kyc as (
    select
        *,
        reached_registered and kyc_approved_at is not null as reached_kyc_approved
    from reached_registered
),

reached_funded as (
    select
        *,
        reached_kyc_approved and funded_at is not null as reached_funded
    from reached_kyc
),

funnel as (
    select
        lead_id,
        status,
        source,
        campaign_id,
        owner_agent_id,
        owner_id,
        owner_username,
        team_id,
        country,
        partner_id,
        client_id,
        cast(date_trunc('week', created_at) as date) as cohort_week,
        created_at,
        reached_contacted,
        reached_qualified,
        reached_registered,
        reached_kyc_approved,
        reached_funded,
        imported_from,
        _event_id,
        case when reached_contacted then contacted_at end as contacted_at,
        case when reached_qualified then qualified_at end as qualified_at,
        case when reached_registered then registered_at end as registered_at,
        case when reached_kyc_approved then kyc_approved_at end as kyc_approved_at,
        case when reached_funded then funded_at end as funded_at,
        case when reached_funded and traded_at is not null then traded_at end as traded_at,
        reached_qualified and qualified_time_unknown as qualified_time_unknown,
        reached_funded and traded_at is not null as reached_traded,
        case when reached_funded then first_deposit_usd end as first_deposit_usd,
        case when reached_funded then first_deposit_id end as first_deposit_id,
        (status = 'converted' or client_id is not null) and not reached_contacted
            as converted_without_contact
    from reached_funded
)

select * from funnel
