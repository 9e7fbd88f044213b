-- Blocks publishing when an approved or paid month differs from what finance froze: each
-- statement row and the payout row against the commission_statement record in the CRM.
{{ config(meta={'dagster': {'ref': {'name': 'rpt_commission_statements'}}}) }}

with

frozen as (
    select * from {{ ref('int_commission_frozen') }}
),

frozen_rows as (
    select * from frozen
    where component is not null
),

shown as (
    select * from {{ ref('rpt_commission_statements') }}
    where status != 'draft'
),

statement_moves as (
    select
        coalesce(shown.partner_id, frozen_rows.partner_id) as partner_id,
        coalesce(shown.period, frozen_rows.period) as period,
        coalesce(shown.component, frozen_rows.component) as component,
        'statement row moved' as problem
    from shown
    full outer join frozen_rows
        on
            shown.partner_id = frozen_rows.partner_id
            and shown.period = frozen_rows.period
            and shown.component = frozen_rows.component
    where
        shown.amount is distinct from frozen_rows.amount
        or shown.line_count is distinct from frozen_rows.line_count
        or shown.status is distinct from frozen_rows.status
),

payout_moves as (
    select
        frozen.partner_id,
        frozen.period,
        cast(null as string) as component,
        'payout row moved' as problem
    from (
        select distinct {{ star_except(['component', 'amount', 'line_count']) }} from frozen
    ) as frozen
    left join {{ ref('rpt_commission_payouts') }} as payouts
        on frozen.partner_id = payouts.partner_id and frozen.period = payouts.period
    where
        frozen.has_payout and (
            payouts.partner_id is null
            or payouts.earned != frozen.earned
            or payouts.carried_in != frozen.carried_in
            or payouts.payable != frozen.payable
            or payouts.carried_out != frozen.carried_out
        )
)

select * from statement_moves
union all
select * from payout_moves
