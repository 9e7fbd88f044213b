-- The trade deals that count for commissions (commissions.md §3): on a non-excluded account,
-- of a client with a partner at the deal's instant (level 1; rule 2: a link applies from its
-- effective_from), in a month that partner has a plan for, of a symbol group the plan does
-- not exclude. `earns_per_lot`: a closing deal held at least the plan's min hold, or whose
-- opening deal is not in the warehouse (also the deals spread_share pays on). Money in USD.
-- Incremental on DuckDB by trade date, as int_commission_deals; a table built whole on Spark.
-- depends_on: {{ ref('int_commission_changed_days') }}
{{ config(
    materialized=commission_lines_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_commission_days() }}",
) }}

with

deals as (
    select * from {{ ref('int_commission_deals') }}
    where
        not commission_excluded
        {% if is_incremental() %}
            and {{ commission_day_changed('trade_date') }}
        {% endif %}
),

links as (
    select * from {{ ref('int_commission_links') }}
),

partner_plans as (
    select * from {{ ref('int_commission_partner_plans') }}
),

plans as (
    select * from {{ ref('int_commission_plans') }}
),

final as (
    select
        deals.*,
        links.partner_id as l1_partner_id,
        plans.plan_id,
        deals.is_closing and (
            deals.hold_ms is null or deals.hold_ms >= plans.min_hold_ms
        ) as earns_per_lot,
        {{ times('deals.commission', 'deals.usd_rate') }} as commission_usd,
        {{ times('deals.profit + deals.swap + deals.commission + deals.fee', 'deals.usd_rate') }}
            as client_pnl_usd
    from deals
    inner join links
        on
            deals.client_id = links.client_id
            and deals.deal_time_utc >= links.linked_from
            and (links.linked_to is null or deals.deal_time_utc < links.linked_to)
    inner join partner_plans
        on
            links.partner_id = partner_plans.partner_id
            and deals.month_start >= partner_plans.plan_from
            and (partner_plans.plan_to is null or deals.month_start < partner_plans.plan_to)
    inner join plans on partner_plans.plan_id = plans.plan_id
    where not {{ list_contains('plans.exclude_symbol_groups', 'deals.symbol_group') }}
)

select * from final
