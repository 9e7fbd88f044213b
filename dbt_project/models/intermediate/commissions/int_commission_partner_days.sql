-- Each level-1 partner's trade date under its plan: the client result in USD of its eligible
-- deals (int_commission_eligible_deals), summed exactly, for the revshare nets
-- (int_commission_revshare), and the lots of those that earn per_lot, for the month tiers
-- (int_commission_month_tiers): kept incrementally by trade date as the deal tables are (the
-- pre-hook deletes the dates int_commission_changed_days names, the model sums them again),
-- so a daily increment's revshare and tiers add up some 10^5 partner-days, not every
-- eligible deal. A table built whole on Spark.
-- depends_on: {{ ref('int_commission_changed_days') }}
{{ config(
    materialized=commission_lines_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_commission_days() }}",
) }}

with

deals as (
    select * from {{ ref('int_commission_eligible_deals') }}
    {% if is_incremental() %}
        where {{ commission_day_changed('trade_date') }}
    {% endif %}
),

final as (
    select
        l1_partner_id,
        plan_id,
        period,
        month_start,
        trade_date,
        sum(client_pnl_usd) as client_pnl_usd,
        -- the lots of the deals that earn per_lot (null when none), for the month tiers
        sum(case when earns_per_lot then lots end) as per_lot_lots
    from deals
    group by l1_partner_id, plan_id, period, month_start, trade_date
)

select * from final
