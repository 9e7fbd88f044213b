-- The commission lines for the statements page's drill-down (the serving snapshot publishes
-- reporting only), each with its month's statement status. A view: the publish copies it into
-- the snapshot, so a table here would be a second full copy of every line at each build.
{{ config(materialized='view') }}

with

lines as (
    select * from {{ ref('fct_commission_lines') }}
),

approved as (
    select distinct
        partner_id,
        period,
        status
    from {{ ref('int_commission_frozen') }}
),

final as (
    select
        lines.*,
        coalesce(approved.status, 'draft') as statement_status
    from lines
    left join approved on lines.partner_id = approved.partner_id and lines.period = approved.period
)

select * from final
