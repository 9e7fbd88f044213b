-- Each client's lots per trade date (every trade deal on its known accounts,
-- int_commission_deals), for the partner manager's performance report
-- (rpt_partner_performance): summed here once and kept incrementally by trade date as the deal
-- tables are (the pre-hook deletes the dates int_commission_changed_days names, the model
-- sums them again), so the report reads some 4M client-days at 10M deals, not every deal. A
-- table built whole on Spark.
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
    {% if is_incremental() %}
        where {{ commission_day_changed('trade_date') }}
    {% endif %}
),

final as (
    select
        client_id,
        trade_date,
        period,
        sum(lots) as lots
    from deals
    group by client_id, trade_date, period
)

select * from final
