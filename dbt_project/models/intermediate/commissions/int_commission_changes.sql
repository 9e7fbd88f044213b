-- What an incremental build of fct_commission_lines recomputes: the trade dates whose deals
-- changed (int_commission_changed_days, as the deal tables), the level-1 partner-months
-- (per_lot tiers) whose fingerprint differs from the one the lines were last built from
-- (marts.fct_commission_lines_inputs, written with the lines), and `everything` (with every
-- trade date) when there is no such record or the terms every line reads changed.
{{ config(materialized='table') }}

with

fingerprints as (
    select * from {{ ref('int_commission_fingerprints') }}
),

built as (
    {{ commission_lines_built_from() }}
),

-- one row when the terms changed or nothing was recorded (none when the terms are the same)
everything as (
    select true as rebuild
    from (
        select count(*) as same_terms
        from fingerprints
        inner join built
            on fingerprints.kind = built.kind and fingerprints.fingerprint = built.fingerprint
        where fingerprints.kind = 'terms'
    ) as compared
    where compared.same_terms = 0
),

tiers as (
    select * from fingerprints
    where kind = 'tier'
),

built_tiers as (
    select * from built
    where kind = 'tier'
),

tier_differences as (
    select
        'tier' as kind,
        cast(null as date) as trade_date,
        coalesce(tiers.l1_partner_id, built_tiers.l1_partner_id) as l1_partner_id,
        coalesce(tiers.period, built_tiers.period) as period
    from tiers
    full outer join built_tiers
        on
            tiers.l1_partner_id = built_tiers.l1_partner_id
            and tiers.period = built_tiers.period
    where
        tiers.fingerprint is distinct from built_tiers.fingerprint
        or (select count(*) from everything) > 0
),

-- the dates whose deals changed, and every date when everything is recomputed
day_differences as (
    select trade_date from {{ ref('int_commission_changed_days') }}
    where kind = 'day'
    union
    select trade_date from fingerprints
    where kind = 'day' and (select count(*) from everything) > 0
),

differences as (
    select * from tier_differences
    union all
    select
        'day' as kind,
        trade_date,
        cast(null as string) as l1_partner_id,
        cast(null as string) as period
    from day_differences
),

final as (
    select * from differences
    union all
    select
        'everything' as kind,
        cast(null as date) as trade_date,
        cast(null as string) as l1_partner_id,
        cast(null as string) as period
    from everything
)

select * from final
