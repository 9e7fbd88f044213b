-- The KYC queue counted by status and waiting-time bucket (rpt_kyc_queue).
select
    kyc_status,
    age_bucket,
    count(*) as clients,
    max(waiting_days) as longest_wait_days
from {{ ref('rpt_kyc_queue') }}
group by all
