-- One partner's month of payout (commissions.md §6, rule 12), month by month from its first
-- month with a statement row to the last month of any trade deal (or its last statement
-- month, if later): available = earned + carried in; at or above min_payout_usd all of it is
-- payable, else all of it carries (a negative balance too). An approved month keeps the row
-- frozen at approval, and the next month carries in what that row carried out.
with recursive

statements as (
    select * from {{ ref('rpt_commission_statements') }}
),

earned as (
    select
        partner_id,
        period,
        sum(amount) as earned
    from statements
    group by partner_id, period
),

-- the latest deal's month (the latest time, formatted once: not every deal's month formatted)
last_deal_month as (
    select {{ format_time('max(deal_time_utc)', '%Y-%m') }} as period
    from {{ ref('fct_deals') }}
),

spans as (
    select
        earned.partner_id,
        min(earned.period) as first_period,
        greatest(max(earned.period), max(last_deal_month.period)) as last_period
    from earned
    cross join last_deal_month
    group by earned.partner_id
),

months as (
    select
        partner_id,
        step + 1 as n,
        {{ format_time(add_months("cast(first_period || '-01' as date)", 'step'), '%Y-%m') }}
            as period
    from (
        select
            *,
            -- the months from first_period to last_period (YYYY-MM), both included
            {{ integer_steps('0', '''
                cast(substr(last_period, 1, 4) as integer) * 12
                + cast(substr(last_period, 6, 2) as integer)
                - cast(substr(first_period, 1, 4) as integer) * 12
                - cast(substr(first_period, 6, 2) as integer) + 1
            ''') }} as step
        from spans
    ) as stepped
),

frozen as (
    select distinct
        partner_id,
        period,
        status,
        paid_reference,
        earned,
        carried_in,
        payable,
        carried_out
    from {{ ref('int_commission_frozen') }}
    where has_payout
),

partners as (
    select
        partner_id,
        name,
        coalesce(min_payout_usd, 0) as min_payout_usd
    from {{ ref('int_crm__partners') }}
    where is_current
),

inputs as (
    select
        months.partner_id,
        months.n,
        months.period,
        frozen.earned as frozen_earned,
        frozen.carried_in as frozen_carried_in,
        frozen.payable as frozen_payable,
        frozen.carried_out as frozen_carried_out,
        coalesce(earned.earned, 0) as earned,
        coalesce(partners.min_payout_usd, 0) as min_payout_usd
    from months
    left join earned on months.partner_id = earned.partner_id and months.period = earned.period
    left join frozen on months.partner_id = frozen.partner_id and months.period = frozen.period
    left join partners on months.partner_id = partners.partner_id
),

-- money as DECIMAL(18, 2) in both terms: a recursive CTE keeps its first term's types
payouts (partner_id, n, period, earned, carried_in, payable, carried_out) as (
    select
        partner_id,
        n,
        period,
        cast(coalesce(frozen_earned, earned) as decimal(18, 2)),
        cast(coalesce(frozen_carried_in, 0) as decimal(18, 2)),
        cast(coalesce(
            frozen_payable, case when earned >= min_payout_usd then earned else 0 end
        ) as decimal(18, 2)),
        cast(coalesce(
            frozen_carried_out, case when earned >= min_payout_usd then 0 else earned end
        ) as decimal(18, 2))
    from inputs
    where n = 1
    union all
    select
        inputs.partner_id,
        inputs.n,
        inputs.period,
        cast(coalesce(inputs.frozen_earned, inputs.earned) as decimal(18, 2)),
        cast(coalesce(inputs.frozen_carried_in, payouts.carried_out) as decimal(18, 2)),
        cast(coalesce(
            inputs.frozen_payable,
            case
                when inputs.earned + payouts.carried_out >= inputs.min_payout_usd
                    then inputs.earned + payouts.carried_out
                else 0
            end
        ) as decimal(18, 2)),
        cast(coalesce(
            inputs.frozen_carried_out,
            case
                when inputs.earned + payouts.carried_out >= inputs.min_payout_usd then 0
                else inputs.earned + payouts.carried_out
            end
        ) as decimal(18, 2))
    from payouts
    inner join inputs on payouts.partner_id = inputs.partner_id and inputs.n = payouts.n + 1
),

final as (
    select
        payouts.partner_id,
        partners.name as partner_name,
        payouts.period,
        partners.min_payout_usd,
        cast(payouts.earned as decimal(18, 2)) as earned,
        cast(payouts.carried_in as decimal(18, 2)) as carried_in,
        cast(payouts.payable as decimal(18, 2)) as payable,
        cast(payouts.carried_out as decimal(18, 2)) as carried_out,
        frozen.paid_reference,
        coalesce(frozen.status, 'draft') as status
    from payouts
    left join partners on payouts.partner_id = partners.partner_id
    left join frozen on payouts.partner_id = frozen.partner_id and payouts.period = frozen.period
)

select * from final
