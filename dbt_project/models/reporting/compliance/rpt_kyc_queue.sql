-- Clients awaiting a KYC decision (documents pending, under review, more information
-- required), each with how long it has waited in its current KYC status at build time (as_of)
-- and that wait's bucket: 0-2, 3-7, 8-30, 30+ days.
with

client_versions as (
    select
        *,
        lag(kyc_status) over (partition by client_id order by record_version) as previous_status
    from {{ ref('int_crm__clients') }}
),

status_since as (
    select
        client_id,
        max(valid_from) as kyc_status_since
    from client_versions
    where previous_status is null or previous_status != kyc_status
    group by client_id
),

waiting as (
    select
        client_versions.client_id,
        client_versions.name,
        client_versions.country,
        client_versions.kyc_status,
        client_versions.risk_level,
        status_since.kyc_status_since,
        {{ days_between('status_since.kyc_status_since', as_of()) }} as waiting_days,
        client_versions._event_id as crm_event_id
    from client_versions
    inner join status_since on client_versions.client_id = status_since.client_id
    where
        client_versions.is_current
        and client_versions.kyc_status in (
            'documents_pending', 'under_review', 'more_info_required'
        )
)

select
    *,
    {{ age_bucket('waiting_days') }} as age_bucket
from waiting
