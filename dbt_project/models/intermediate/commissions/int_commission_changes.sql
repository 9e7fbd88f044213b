-- What an incremental build of fct_commission_lines recomputes: the trade dates and the
-- level-1 partner-months (per_lot tiers) whose fingerprint differs from the one the lines
-- were last built from (marts.fct_commission_lines_inputs, written with the lines), and
-- `everything` when there is no such record or the terms every line reads changed.
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

differences as (
    select
        coalesce(fingerprints.kind, built.kind) as kind,
        coalesce(fingerprints.trade_date, built.trade_date) as trade_date,
        coalesce(fingerprints.l1_partner_id, built.l1_partner_id) as l1_partner_id,
        coalesce(fingerprints.period, built.period) as period
    from fingerprints
    full outer join built
        on
            fingerprints.kind = built.kind
            and fingerprints.trade_date is not distinct from built.trade_date
            and fingerprints.l1_partner_id is not distinct from built.l1_partner_id
            and fingerprints.period is not distinct from built.period
    where
        coalesce(fingerprints.kind, built.kind) in ('day', 'tier')
        and (
            fingerprints.fingerprint is distinct from built.fingerprint
            or (select count(*) from everything) > 0
        )
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
