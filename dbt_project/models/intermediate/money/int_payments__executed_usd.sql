-- Executed payments, one row each, in USD at the rate of the day they were executed (or the
-- latest earlier one, as fct_deals converts deals), with the dimensions the money reports cut
-- by: the client's country, the account's currency, the partner the client belonged to that day.
-- A table: three money reports and its tests read it, and as a view each re-read every
-- payment version out of the CRM events (80 s apiece at 1M deals and 226,000 payments).
{{ config(materialized='table') }}

with

payment_versions as (
    select * from {{ ref('int_crm__payments') }}
),

-- The version that executed each payment; an imported payment states its executed_at, a
-- payment executed through the queue is executed when that version was recorded.
executions as (
    select
        payment_id,
        client_id,
        account_id,
        kind,
        method,
        amount,
        currency,
        fee,
        imported_from,
        _event_id,
        coalesce(executed_at, valid_from) as executed_at
    from payment_versions
    where status = 'executed' and kind in ('deposit', 'withdrawal')
    qualify row_number() over (partition by payment_id order by record_version) = 1
),

current_payments as (
    select payment_id from payment_versions
    where is_current and status = 'executed'
),

clients as (
    select * from {{ ref('int_crm__clients') }}
    where is_current
),

accounts as (
    select * from {{ ref('int_crm__trading_accounts') }}
    where is_current
),

partner_mappings as (
    select * from {{ ref('int_crm__partner_mappings') }}
    where is_current
),

rates as (
    select * from {{ ref('stg_market__fx_rates') }}
),

executed as (
    select
        executions.*,
        cast(executions.executed_at as date) as executed_date
    from executions
    inner join current_payments on executions.payment_id = current_payments.payment_id
),

rate_dates as (
    select
        executed.payment_id,
        max(rates.rate_date) as rate_date
    from executed
    inner join rates
        on
            executed.currency = rates.currency
            and executed.executed_date >= rates.rate_date
    group by executed.payment_id
),

converted as (
    select
        executed.payment_id,
        executed.client_id,
        executed.account_id,
        executed.kind,
        executed.method,
        executed.currency,
        executed.amount,
        executed.fee,
        executed.executed_at,
        executed.executed_date,
        clients.country,
        accounts.currency as account_currency,
        partner_mappings.partner_id,
        -- a 19-digit rate keeps the product exact on both engines (macros/portable/README.md)
        cast(
            executed.amount
            * cast(
                case when executed.currency = 'USD' then 1 else rates.usd_per_unit end
                as decimal(19, 8)
            )
            as decimal(18, 2)
        ) as amount_usd,
        executed.imported_from,
        executed._event_id,
        cast(
            case when executed.currency = 'USD' then 1 else rates.usd_per_unit end as decimal(18, 8)
        ) as usd_rate
    from executed
    left join rate_dates on executed.payment_id = rate_dates.payment_id
    left join rates
        on
            executed.currency = rates.currency
            and rate_dates.rate_date = rates.rate_date
    left join clients on executed.client_id = clients.client_id
    left join accounts on executed.account_id = accounts.account_id
    left join partner_mappings
        on
            executed.client_id = partner_mappings.client_id
            and executed.executed_date >= partner_mappings.effective_from
            and (
                partner_mappings.effective_to is null
                or executed.executed_date < partner_mappings.effective_to
            )
    -- one partner a day: where mappings overlap, the one that started last
    qualify row_number() over (
        partition by executed.payment_id order by partner_mappings.effective_from desc
    ) = 1
)

select * from converted
