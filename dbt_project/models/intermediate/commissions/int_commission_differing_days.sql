-- The trade dates whose fingerprint (int_commission_deal_days) differs from the one the lines
-- were last built from (marts.fct_commission_lines_inputs), a date that no longer has deals
-- included; and `everything` when nothing was recorded (the first build, or the record lost).
-- A table of its own so that int_commission_changed_days, which adds the dates whose holds
-- these changes move, joins the deals to a relation whose size DuckDB knows (a few dates):
-- estimated from the fingerprints, the join built its hash table on five million deals.
{{ config(materialized='table') }}

with

fingerprints as (
    select * from {{ ref('int_commission_deal_days') }}
),

built as (
    select * from {{ commission_record('fct_commission_lines_inputs') }}
),

recorded_days as (
    select
        trade_date,
        fingerprint
    from built
    where kind = 'day'
),

differences as (
    select coalesce(fingerprints.trade_date, recorded_days.trade_date) as trade_date
    from fingerprints
    full outer join recorded_days on fingerprints.trade_date = recorded_days.trade_date
    where fingerprints.fingerprint is distinct from recorded_days.fingerprint
),

final as (
    select
        'day' as kind,
        trade_date
    from differences
    union all
    select
        'everything' as kind,
        cast(null as date) as trade_date
    from (select count(*) as recorded from built) as record
    where record.recorded = 0
)

select * from final
