-- Executed deposits and withdrawals per UTC day in USD (each at its day's rate), and their
-- difference, by the client's country, the method, the partner the client belonged to that day
-- and the account's currency.
with

payments as (
    select * from {{ ref('int_payments__executed_usd') }}
),

daily as (
    select
        executed_date,
        country,
        method,
        partner_id,
        account_currency,
        count(*) filter (where kind = 'deposit') as deposits,
        count(*) filter (where kind = 'withdrawal') as withdrawals,
        coalesce(sum(amount_usd) filter (where kind = 'deposit'), 0) as deposits_usd,
        coalesce(sum(amount_usd) filter (where kind = 'withdrawal'), 0) as withdrawals_usd,
        coalesce(sum(amount_usd) filter (where kind = 'deposit'), 0)
        - coalesce(sum(amount_usd) filter (where kind = 'withdrawal'), 0) as net_deposits_usd
    from payments
    group by all
)

select * from daily
