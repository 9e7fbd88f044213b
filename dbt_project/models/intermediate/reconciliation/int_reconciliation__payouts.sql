-- The payouts check: each commission statement finance marked paid against its payout record, a
-- CRM payment of kind commission_payout naming the statement (`<partner>/<YYYY-MM>`). Both
-- sides are CRM records: the statement holds what was payable, frozen at approval; the payout
-- records what left the bank.
with

statements as (
    select
        statement_id,
        partner_id,
        status,
        payable,
        _event_id,
        cast(period || '-01' as date) as period_start
    from {{ ref('int_crm__commission_statements') }}
    where is_current
),

paid_statements as (
    select * from statements
    where status = 'paid'
),

-- Only executed payouts: a payout still requested or approved, or cancelled, sent no money.
payouts as (
    select
        payment_id,
        partner_id,
        statement_id,
        amount,
        currency,
        _event_id,
        cast(coalesce(executed_at, valid_from) as date) as executed_on
    from {{ ref('int_crm__payments') }}
    where is_current and kind = 'commission_payout' and status = 'executed'
),

-- A statement paid in more than one transfer is matched by their total.
paid_out as (
    select
        statement_id,
        sum(amount) as paid_total,
        min(payment_id) as payment_id,
        {{ string_agg_ordered('currency', "', '", 'currency', distinct=true) }} as currencies,
        {{ string_agg_ordered('_event_id', "'; '", 'payment_id') }} as platform_ref
    from payouts
    group by statement_id
),

matched as (
    select
        paid_statements.*,
        paid_out.paid_total,
        paid_out.payment_id,
        paid_out.currencies,
        paid_out.platform_ref
    from paid_statements
    left join paid_out on paid_statements.statement_id = paid_out.statement_id
),

breaks as (
    select
        'payout_not_recorded' as break_type,
        partner_id,
        cast(null as string) as payment_id,
        period_start as break_day,
        cast(payable as string) as expected,
        cast(null as string) as actual,
        -payable as difference,
        abs(payable) as money_at_stake,
        _event_id as crm_ref,
        cast(null as string) as platform_ref
    from matched
    -- a paid statement with nothing payable needs no payout
    where paid_total is null and payable <> 0

    union all

    select
        'payout_amount_mismatch' as break_type,
        partner_id,
        payment_id,
        period_start as break_day,
        cast(payable as string) as expected,
        -- a payout in another currency than the statement's USD cannot match: it says so
        cast(paid_total as string)
        || case when currencies <> 'USD' then ' ' || currencies else '' end as actual,
        -- in another currency the difference is unknown and the whole statement is at stake
        case when currencies = 'USD' then paid_total - payable end as difference,
        case when currencies = 'USD' then abs(paid_total - payable) else abs(payable) end
            as money_at_stake,
        _event_id as crm_ref,
        platform_ref
    from matched
    where paid_total is not null and (paid_total <> payable or currencies <> 'USD')

    union all

    select
        'payout_without_statement' as break_type,
        payouts.partner_id,
        payouts.payment_id,
        coalesce(
            try_cast(split_part(payouts.statement_id, '/', 2) || '-01' as date),
            payouts.executed_on
        ) as break_day,
        cast(null as string) as expected,
        cast(payouts.amount as string) as actual,
        payouts.amount as difference,
        abs(payouts.amount) as money_at_stake,
        -- the statement named, approved but not paid, when there is one
        statements._event_id as crm_ref,
        payouts._event_id as platform_ref
    from payouts
    left join statements on payouts.statement_id = statements.statement_id
    where statements.status is distinct from 'paid'
)

select
    'payouts' as check_name,
    break_type,
    cast(null as string) as server,
    cast(null as bigint) as login,
    cast(null as string) as client_id,
    payment_id,
    partner_id,
    cast(null as bigint) as ticket,
    break_day,
    'USD' as currency,
    expected,
    actual,
    cast(difference as decimal(18, 2)) as difference,
    cast(money_at_stake as decimal(18, 2)) as money_at_stake,
    crm_ref,
    platform_ref
from breaks
