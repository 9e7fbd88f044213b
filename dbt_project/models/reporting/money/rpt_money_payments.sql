-- The executed payments behind every money figure, one row each, with the CRM event that
-- executed it and, for an imported payment, the import file's row.
with

payments as (
    select * from {{ ref('int_payments__executed_usd') }}
),

first_deposits as (
    select payment_id from payments
    where kind = 'deposit'
    qualify row_number() over (partition by client_id order by executed_at, payment_id) = 1
)

select
    payments.payment_id,
    payments.client_id,
    payments.account_id,
    payments.kind,
    payments.method,
    payments.currency,
    payments.amount,
    payments.usd_rate,
    payments.amount_usd,
    payments.executed_at,
    payments.executed_date,
    payments.country,
    payments.partner_id,
    payments.account_currency,
    payments._event_id as crm_event_id,
    first_deposits.payment_id is not null as is_first_deposit,
    {{ json_text('payments.imported_from', ['payments.csv', 'row']) }} as import_row
from payments
left join first_deposits on payments.payment_id = first_deposits.payment_id
