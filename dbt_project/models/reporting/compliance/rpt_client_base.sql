-- Current clients counted by account status, category, risk level and KYC status (a level
-- not yet set shows as "(not set)").
select
    status,
    kyc_status,
    coalesce(category, '(not set)') as category,
    coalesce(risk_level, '(not set)') as risk_level,
    count(*) as clients
from {{ ref('int_crm__clients') }}
where is_current
group by all
