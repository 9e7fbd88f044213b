-- What an incremental build of fct_commission_daily_totals recomputes: what differs between
-- the record of what the lines are now built from (marts.fct_commission_lines_inputs, written
-- with the lines) and the record of what the totals were last built from
-- (marts.fct_commission_daily_totals_inputs, written with the totals). Normally that is what
-- the lines just recomputed (int_commission_changes); after a build whose lines were written
-- but whose totals were not, it is also what that build changed, so the totals catch up.
-- depends_on: {{ ref('fct_commission_lines') }}
{{ config(materialized='table') }}

{{ commission_fingerprint_changes(
    commission_record('fct_commission_lines_inputs'),
    commission_record('fct_commission_daily_totals_inputs')
) }}
