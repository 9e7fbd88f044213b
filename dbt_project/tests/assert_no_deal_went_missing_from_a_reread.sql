-- Warns while rpt_deals_missing_from_reread lists anything: a platform re-sent a window without
-- deals it had sent before, and someone should find out why.
{{ config(severity='warn') }}

select * from {{ ref('rpt_deals_missing_from_reread') }}
