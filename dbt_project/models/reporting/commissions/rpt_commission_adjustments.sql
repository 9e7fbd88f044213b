-- Adjustment entries (commissions.md §6, rule 11): for each approved partner-month and base
-- component, recomputed minus what was paid for it so far (both rounded to cents): the amount
-- frozen at the month's approval plus the entries for it already frozen in later approved months
-- (int_commission_frozen_adjustments). A non-zero difference is booked into the partner's earliest
-- later month that is not approved; once that month is approved the entry is settled there, and
-- only a further change books a new one. The entries frozen in approved months are listed too,
-- in the month they were booked into, so an approved statement still shows its entries.
with

frozen as (
    select * from {{ ref('int_commission_frozen') }}
),

frozen_entries as (
    select * from {{ ref('int_commission_frozen_adjustments') }}
),

approved as (
    select distinct
        partner_id,
        period
    from frozen
),

recomputed as (
    select
        partner_id,
        period,
        component,
        round(sum(amount), 2) as amount
    from {{ ref('fct_commission_daily_totals') }} as commission_lines
    where
        exists (
            select 1 from approved
            where
                approved.partner_id = commission_lines.partner_id
                and approved.period = commission_lines.period
        )
    group by partner_id, period, component
),

-- what each approved month's component has been paid so far: frozen at its approval, plus the
-- entries correcting it that later approved months froze
settled as (
    select
        partner_id,
        period,
        component,
        sum(amount) as amount
    from (
        select
            partner_id,
            period,
            component,
            amount
        from frozen
        where component is not null and component != 'adjustment'
        union all
        select
            partner_id,
            corrects_period as period,
            component,
            amount
        from frozen_entries
    ) as paid
    group by partner_id, period, component
),

differences as (
    select
        coalesce(recomputed.partner_id, settled.partner_id) as partner_id,
        coalesce(recomputed.period, settled.period) as corrects_period,
        coalesce(recomputed.component, settled.component) as component,
        coalesce(settled.amount, 0) as frozen_amount,
        coalesce(recomputed.amount, 0) as recomputed_amount
    from recomputed
    full outer join settled
        on
            recomputed.partner_id = settled.partner_id
            and recomputed.period = settled.period
            and recomputed.component = settled.component
    where coalesce(recomputed.amount, 0) != coalesce(settled.amount, 0)
),

-- the first later month not approved: at most one more than the partner's approved months
approved_counts as (
    select
        partner_id,
        count(*) as months
    from approved
    group by partner_id
),

steps as (
    select
        differences.*,
        {{ integer_steps('1', 'approved_counts.months + 2') }} as step
    from differences
    inner join approved_counts on differences.partner_id = approved_counts.partner_id
),

candidates as (
    select
        *,
        {{ format_time(add_months("cast(corrects_period || '-01' as date)", 'step'), '%Y-%m') }}
            as period
    from steps
),

booked as (
    select
        partner_id,
        corrects_period,
        component,
        frozen_amount,
        recomputed_amount,
        min(period) as period
    from candidates
    where
        not exists (
            select 1 from approved
            where
                approved.partner_id = candidates.partner_id and approved.period = candidates.period
        )
    group by partner_id, corrects_period, component, frozen_amount, recomputed_amount
),

open_entries as (
    select
        partner_id,
        period,
        corrects_period,
        component,
        cast(frozen_amount as decimal(18, 2)) as frozen_amount,  -- a sum: as the frozen one
        recomputed_amount,
        cast(recomputed_amount - frozen_amount as decimal(18, 2)) as amount
    from booked
),

final as (
    select * from open_entries
    union all
    select
        partner_id,
        period,
        corrects_period,
        component,
        frozen_amount,
        recomputed_amount,
        amount
    from frozen_entries
)

select * from final
