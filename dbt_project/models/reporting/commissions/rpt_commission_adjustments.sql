-- Adjustment entries (commissions.md §6, rule 11): for each approved partner-month and base
-- component, recomputed minus frozen (both rounded to cents); a non-zero difference is booked
-- into the partner's earliest later month that is not approved.
with

frozen as (
    select * from {{ ref('int_commission_frozen') }}
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

frozen_components as (
    select
        partner_id,
        period,
        component,
        amount
    from frozen
    where component is not null and component != 'adjustment'
),

differences as (
    select
        coalesce(recomputed.partner_id, frozen_components.partner_id) as partner_id,
        coalesce(recomputed.period, frozen_components.period) as corrects_period,
        coalesce(recomputed.component, frozen_components.component) as component,
        coalesce(frozen_components.amount, 0) as frozen_amount,
        coalesce(recomputed.amount, 0) as recomputed_amount
    from recomputed
    full outer join frozen_components
        on
            recomputed.partner_id = frozen_components.partner_id
            and recomputed.period = frozen_components.period
            and recomputed.component = frozen_components.component
    where coalesce(recomputed.amount, 0) != coalesce(frozen_components.amount, 0)
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

final as (
    select
        partner_id,
        period,
        corrects_period,
        component,
        frozen_amount,
        recomputed_amount,
        cast(recomputed_amount - frozen_amount as decimal(18, 2)) as amount
    from booked
)

select * from final
