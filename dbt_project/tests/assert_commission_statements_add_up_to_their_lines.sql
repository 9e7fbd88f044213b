-- Blocks publishing when a draft statement row is not its lines summed and rounded to cents
-- (or its adjustment entries), when lines of a draft month have no statement row, or when a
-- payout's earned is not the sum of its statement rows (commissions.md §6).
{{ config(meta={'dagster': {'ref': {'name': 'rpt_commission_statements'}}}) }}

with

statements as (
    select * from {{ ref('rpt_commission_statements') }}
),

sums as (
    select
        partner_id,
        period,
        component,
        round(sum(amount), 2) as amount,
        count(*) as line_count
    from {{ ref('fct_commission_lines') }}
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

approved as (
    select distinct
        partner_id,
        period
    from statements
    where status != 'draft'
),

drafts as (
    select
        sums.*,
        approved.partner_id is null as is_draft
    from sums
    left join approved on sums.partner_id = approved.partner_id and sums.period = approved.period
),

draft_statements as (
    select * from statements
    where status = 'draft'
),

draft_sums as (
    select * from drafts
    where is_draft
),

statement_mismatches as (
    select
        coalesce(draft_statements.partner_id, draft_sums.partner_id) as partner_id,
        coalesce(draft_statements.period, draft_sums.period) as period,
        coalesce(draft_statements.component, draft_sums.component) as component,
        draft_statements.amount as statement_amount,
        draft_sums.amount as lines_amount,
        'statement row is not its lines' as problem
    from draft_statements
    full outer join draft_sums
        on
            draft_statements.partner_id = draft_sums.partner_id
            and draft_statements.period = draft_sums.period
            and draft_statements.component = draft_sums.component
    where
        draft_statements.amount is distinct from draft_sums.amount
        or draft_statements.line_count is distinct from draft_sums.line_count
),

payout_mismatches as (
    select
        payouts.partner_id,
        payouts.period,
        cast(null as string) as component,
        payouts.earned as statement_amount,
        coalesce(sum(statements.amount), 0) as lines_amount,
        'payout earned is not its statement rows' as problem
    from {{ ref('rpt_commission_payouts') }} as payouts
    left join statements
        on payouts.partner_id = statements.partner_id and payouts.period = statements.period
    group by payouts.partner_id, payouts.period, payouts.earned
    having payouts.earned != coalesce(sum(statements.amount), 0)
)

select * from statement_mismatches
union all
select * from payout_mismatches
