-- What the commission lines are computed from, summed into fingerprints, so an incremental
-- build of fct_commission_lines can tell what changed since the last one: per trade date,
-- everything its deals' rows are computed from (int_commission_deal_days: late deals,
-- corrections, link, plan assignment, account, rate and hold changes all show in their day);
-- per level-1 partner and month, its plan and tier (a tier reached later in the month re-rates
-- the whole month); per bucket of clients, their first deposits (their cpa:
-- int_commission_cpa_clients); and once, the terms every line reads (plans, rate tables,
-- splits, markups, the partner tree), whose change rebuilds all.
{{ config(materialized='table') }}

with

days as (
    select * from {{ ref('int_commission_deal_days') }}
),

tiers as (
    select
        'tier' as kind,
        cast(null as date) as trade_date,
        l1_partner_id,
        period,
        cast(null as string) as client_bucket,
        plan_id || ':' || coalesce(cast(tier_from_lots as string), 'plan rates') as fingerprint
    from {{ ref('int_commission_month_tiers') }}
),

clients as (
    select
        'client' as kind,
        cast(null as date) as trade_date,
        cast(null as string) as l1_partner_id,
        cast(null as string) as period,
        {{ commission_client_bucket('client_id') }} as client_bucket,
        cast(sum({{ hash_value([
            'client_id', 'deposit_server', 'deposit_ticket', 'deposit_time_utc', 'deposit_usd',
            'cpa_partner_id',
        ]) }}) as string) as fingerprint
    from {{ ref('int_commission_first_deposits') }}
    group by {{ commission_client_bucket('client_id') }}
),

terms as (
    select
        'terms' as kind,
        cast(null as date) as trade_date,
        cast(null as string) as l1_partner_id,
        cast(null as string) as period,
        cast(null as string) as client_bucket,
        concat_ws(
            ':',
            (
                select sum({{ hash_value(
                    ['plan_id', 'plan_name', 'min_hold_ms', 'exclude_symbol_groups']
                ) }})
                from {{ ref('int_commission_plans') }}
            ),
            (
                select sum({{ hash_value([
                    'plan_id', 'component', 'pct', 'cap_usd_per_lot', 'amount_usd',
                    'min_deposit_usd', 'min_lots', 'within_days',
                ]) }})
                from {{ ref('int_commission_plan_components') }}
            ),
            (
                select sum({{ hash_value(['plan_id', 'tier_from_lots', 'symbol_group', 'rate']) }})
                from {{ ref('int_commission_plan_rates') }}
            ),
            (
                select sum({{ hash_value(['plan_id', 'level', 'split_pct']) }})
                from {{ ref('int_commission_plan_splits') }}
            ),
            (
                select sum({{ hash_value(
                    ['partner_id', 'level', 'upline_id', 'valid_from', 'valid_to']
                ) }})
                from {{ ref('int_commission_uplines') }}
            ),
            (
                select sum({{ hash_value(['symbol_group', 'usd_per_lot']) }})
                from {{ ref('int_crm__spread_markups') }}
                where is_current
            )
        ) as fingerprint
)

select * from days
union all
select * from tiers
union all
select * from clients
union all
select * from terms
