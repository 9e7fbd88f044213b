-- Each client's lots per trade date under the partner it was linked to on the day (the link in
-- force at the date's start, int_commission_links; a detached client's days belong to no one
-- and are left out), for the partner manager's performance report (rpt_partner_performance,
-- through int_commission_client_months). Summed here once and kept incrementally by trade
-- date as the deal tables are (the pre-hook deletes the dates int_commission_changed_days
-- names, the model sums them again; a changed link changes the fingerprint of its client's
-- dates), so the client months add up some 4M client-days at 10M deals without joining each to
-- its links again. A table built whole on Spark.
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

links as (
    select * from {{ ref('int_commission_links') }}
    where partner_id is not null
),

client_days as (
    select
        client_id,
        trade_date,
        period,
        sum(lots) as lots
    from deals
    group by client_id, trade_date, period
),

final as (
    select
        links.partner_id,
        client_days.client_id,
        client_days.trade_date,
        client_days.period,
        client_days.lots
    from client_days
    inner join links
        on
            client_days.client_id = links.client_id
            and client_days.trade_date >= links.linked_from
            and (links.linked_to is null or client_days.trade_date < links.linked_to)
)

select * from final
