-- One row per break, in the columns of the reconciliation contract.
select
    break_id,
    check_name as {{ quoted('check') }},  -- noqa: RF04
    break_type,
    severity,
    server,
    login,
    client_id,
    payment_id,
    partner_id,
    ticket,
    break_day as day,  -- noqa: RF04
    expected,
    actual,
    difference,
    crm_ref,
    platform_ref,
    first_seen_at,
    age_days,
    status,
    note,
    decided_by
from {{ ref('fct_reconciliation_breaks') }}
