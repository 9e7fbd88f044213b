-- Each client's month under each partner it was linked to on the day: the lots of its trade
-- deals (int_commission_client_days, which gives each day its partner) and its net deposits,
-- for the partner manager's performance report (rpt_partner_performance). Apart from the
-- report so that this, the report's heavy part, runs beside the commission models rather than
-- after the payouts the report also reads. The links' ends are the commission models' own
-- (int_commission_links): a link without a partner (a detached client, rule 8) ends the one
-- before it even when that one's effective_to was never set, and belongs to no partner.
{{ config(materialized='table') }}

with

links as (
    select
        client_id,
        partner_id,
        linked_from as effective_from,
        linked_to as effective_to
    from {{ ref('int_commission_links') }}
    where partner_id is not null
),

accounts as (
    select distinct
        server,
        login,
        client_id,
        currency
    from {{ ref('int_crm__trading_accounts') }}
    where is_current and login is not null
),

-- a client's lots under each partner (int_commission_client_days: the partner linked that day)
client_deals as (
    select
        partner_id,
        client_id,
        period,
        sum(lots) as lots
    from {{ ref('int_commission_client_days') }}
    group by partner_id, client_id, period
),

-- money in and out as the platform booked it (balance operations, not credit or bonus)
balance_operations as (
    select
        ops.server,
        ops.operation_ticket,
        accounts.client_id,
        accounts.currency,
        ops.amount,
        cast(ops.operation_time_utc as date) as operation_date
    from {{ ref('int_platform__balance_operations') }} as ops
    inner join accounts
        on ops.server = accounts.server and ops.login = accounts.login
    where ops.kind in ('deposit', 'withdrawal') and ops.operation_time_utc is not null
),

-- each operation with the date of the latest rate on or before its day (as fct_deals converts)
operation_rate_dates as (
    select
        balance_operations.server,
        balance_operations.operation_ticket,
        max(rates.rate_date) as rate_date
    from balance_operations
    inner join {{ ref('stg_market__fx_rates') }} as rates
        on
            balance_operations.currency = rates.currency
            and balance_operations.operation_date >= rates.rate_date
    group by balance_operations.server, balance_operations.operation_ticket
),

client_payments as (
    select
        links.partner_id,
        ops.client_id,
        {{ format_time('ops.operation_date', '%Y-%m') }} as period,
        -- 19 x 18 digits: an exact product on both engines (18 x 18 overflows DuckDB past 10^8)
        cast(ops.amount as decimal(19, 2)) * cast(rates.usd_per_unit as decimal(18, 8))
            as net_deposit_usd
    from balance_operations as ops
    inner join operation_rate_dates
        on
            ops.server = operation_rate_dates.server
            and ops.operation_ticket = operation_rate_dates.operation_ticket
    inner join {{ ref('stg_market__fx_rates') }} as rates
        on
            ops.currency = rates.currency
            and operation_rate_dates.rate_date = rates.rate_date
    inner join links
        on
            ops.client_id = links.client_id
            and ops.operation_date >= links.effective_from
            and (links.effective_to is null or ops.operation_date < links.effective_to)
),

client_month_payments as (
    select
        partner_id,
        client_id,
        period,
        sum(net_deposit_usd) as net_deposit_usd
    from client_payments
    group by partner_id, client_id, period
),

final as (
    select
        partner_id,
        client_id,
        period,
        sum(lots) as lots,
        bool_or(traded) as traded,
        sum(net_deposit_usd) as net_deposit_usd
    from (
        select
            partner_id,
            client_id,
            period,
            lots,
            true as traded,
            0 as net_deposit_usd
        from client_deals
        union all
        select
            partner_id,
            client_id,
            period,
            0 as lots,
            false as traded,
            net_deposit_usd
        from client_month_payments
    ) as facts
    group by partner_id, client_id, period
)

select * from final
