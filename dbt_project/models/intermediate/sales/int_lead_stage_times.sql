-- Each lead (current state) with the UTC time it first reached each funnel stage, taken alone:
-- whether the earlier stages were reached is fct_lead_funnel's rule, not this model's. A null
-- time is a stage not reached, except `qualified`, which an imported lead can have reached at
-- an unknown time (qualified_time_unknown).
-- A table: the funnel and its tests read it, and as a view each re-read every lead and
-- activity version out of the CRM events (50 s apiece at 250,000 leads).
{{ config(materialized='table') }}

with

lead_versions as (
    select * from {{ ref('int_crm__leads') }}
),

leads as (
    select * from lead_versions
    where is_current
),

created as (
    select
        lead_id,
        valid_from as created_at
    from lead_versions
    where record_version = 1
),

-- The first version at qualified or beyond. A lead imported in that status has no history:
-- the import's time is when the row was stated, not when it qualified.
qualified as (
    select
        lead_id,
        case when changed_by_event != 'lead.imported' then valid_from end as qualified_at,
        changed_by_event = 'lead.imported' as qualified_time_unknown
    from lead_versions
    where status in ('qualified', 'converted')
    qualify row_number() over (partition by lead_id order by record_version) = 1
),

first_activities as (
    select
        lead_id,
        min(activity_at) as contacted_at
    from {{ ref('int_crm__activities') }}
    where is_current
    group by lead_id
),

client_versions as (
    select * from {{ ref('int_crm__clients') }}
),

-- The client each lead became (the earliest registered, should a lead have been converted twice).
lead_clients as (
    select
        lead_id,
        client_id,
        valid_from as registered_at
    from client_versions
    where record_version = 1 and lead_id is not null
    qualify row_number() over (partition by lead_id order by valid_from, client_id) = 1
),

kyc_approvals as (
    select
        client_id,
        min(coalesce(kyc_approved_at, valid_from)) as kyc_approved_at
    from client_versions
    where kyc_status = 'approved'
    group by client_id
),

first_deposits as (
    select
        client_id,
        executed_at as funded_at,
        amount_usd as first_deposit_usd,
        payment_id as first_deposit_id
    from {{ ref('int_payments__executed_usd') }}
    where kind = 'deposit'
    qualify row_number() over (partition by client_id order by executed_at, payment_id) = 1
),

accounts as (
    select * from {{ ref('int_crm__trading_accounts') }}
    where is_current and login is not null
),

first_trades as (
    select
        accounts.client_id,
        min(deals.deal_time_utc) as traded_at
    from {{ ref('fct_deals') }} as deals
    inner join accounts
        on deals.server = accounts.server and deals.login = accounts.login
    group by accounts.client_id
),

users as (
    select * from {{ ref('int_crm__users') }}
    where is_current
),

agents as (
    select * from {{ ref('int_crm__agents') }}
    where is_current
),

partners as (
    select * from {{ ref('int_crm__partners') }}
    where is_current
),

stages as (
    select
        leads.lead_id,
        leads.status,
        leads.source,
        leads.campaign as campaign_id,
        leads.owner_id,
        leads.owner as owner_username,
        leads.country,
        lead_clients.client_id,
        created.created_at,
        first_activities.contacted_at,
        qualified.qualified_at,
        lead_clients.registered_at,
        kyc_approvals.kyc_approved_at,
        first_deposits.funded_at,
        first_deposits.first_deposit_usd,
        first_deposits.first_deposit_id,
        first_trades.traded_at,
        leads.imported_from,
        leads._event_id,
        coalesce(leads.owner_agent_id, users.agent_id) as owner_agent_id,
        coalesce(agents.team_id, users.team_id) as team_id,
        coalesce(leads.partner_id, referrers.partner_id) as partner_id,
        coalesce(qualified.qualified_time_unknown, false) as qualified_time_unknown,
        qualified.lead_id is not null as qualified_status_reached
    from leads
    inner join created on leads.lead_id = created.lead_id
    left join qualified on leads.lead_id = qualified.lead_id
    left join first_activities on leads.lead_id = first_activities.lead_id
    left join lead_clients on leads.lead_id = lead_clients.lead_id
    left join kyc_approvals on lead_clients.client_id = kyc_approvals.client_id
    left join first_deposits on lead_clients.client_id = first_deposits.client_id
    left join first_trades on lead_clients.client_id = first_trades.client_id
    left join users on leads.owner_id = users.user_id
    left join agents on coalesce(leads.owner_agent_id, users.agent_id) = agents.agent_id
    left join partners as referrers
        on contains(referrers.referral_codes, '"' || leads.referral_code || '"')
)

select * from stages
