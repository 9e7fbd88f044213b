-- One partner's month by component (commissions.md §6, §7). A month not approved: its lines
-- summed and rounded half away from zero to cents, plus the adjustment entries booked into it.
-- An approved or paid month: the rows frozen at approval, whatever the lines say now. The lines
-- are read summed by day (fct_commission_daily_totals: exact, so the same sums).
with

frozen as (
    select * from {{ ref('int_commission_frozen') }}
),

approved as (
    select distinct
        partner_id,
        period,
        status
    from frozen
),

computed as (
    select
        partner_id,
        period,
        component,
        round(sum(amount), 2) as amount,
        sum(line_count) as line_count
    from {{ ref('fct_commission_daily_totals') }}
    group by partner_id, period, component
    union all
    select
        partner_id,
        period,
        'adjustment' as component,
        sum(amount) as amount,
        count(*) as line_count
    from {{ ref('rpt_commission_adjustments') }}
    group by partner_id, period
),

drafts as (
    select
        computed.partner_id,
        computed.period,
        computed.component,
        cast(computed.amount as decimal(18, 2)) as amount,
        cast(computed.line_count as integer) as line_count,
        'draft' as status
    from computed
    where not exists (
        select 1 from approved
        where approved.partner_id = computed.partner_id and approved.period = computed.period
    )
),

statements as (
    select * from drafts
    union all
    select
        partner_id,
        period,
        component,
        amount,
        line_count,
        status
    from frozen
    where component is not null
),

partners as (
    select * from {{ ref('int_crm__partners') }}
    where is_current
),

final as (
    select
        statements.partner_id,
        partners.name as partner_name,
        statements.period,
        statements.component,
        statements.amount,
        statements.line_count,
        statements.status
    from statements
    left join partners on statements.partner_id = partners.partner_id
)

select * from final
