-- First-time depositors per UTC day: clients whose first executed deposit was that day, and
-- those deposits in USD, by country, method, partner and account currency.
with

first_deposits as (
    select * from {{ ref('rpt_money_payments') }}
    where is_first_deposit
),

daily as (
    select
        executed_date,
        country,
        method,
        partner_id,
        account_currency,
        count(*) as first_time_depositors,
        sum(amount_usd) as first_deposits_usd
    from first_deposits
    group by all
)

select * from daily
