-- What an incremental build of fct_commission_lines recomputes: the trade dates whose deals
-- changed (as the deal tables, int_commission_changed_days), the level-1 partner-months
-- (per_lot tiers) whose fingerprint differs from the one the lines were last built from
-- (marts.fct_commission_lines_inputs, written with the lines), and `everything` (with every
-- trade date) when there is no such record or the terms every line reads changed.
{{ config(materialized='table') }}

{{ commission_fingerprint_changes(
    ref('int_commission_fingerprints'), commission_record('fct_commission_lines_inputs')
) }}
