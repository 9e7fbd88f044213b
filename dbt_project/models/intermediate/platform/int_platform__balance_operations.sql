-- The latest version of every balance operation (raw keeps the earlier ones), named as
-- finance names it (kind), with UTC time.
with

latest as (
    {{ latest_version(ref('stg_platform__balance_operations'), ['server', 'operation_ticket']) }}
),

servers as (
    select * from {{ ref('int_crm__trading_servers') }}
    where is_current
),

final as (
    select
        latest.platform,
        latest.server,
        latest.operation_ticket,
        latest.login,
        {{ server_time_to_utc(
            'latest.operation_time_server',
            "coalesce(servers.time_zone, case when latest.platform = 'cTrader' then 'UTC' end)"
        ) }} as operation_time_utc,
        latest.operation_time_server,
        latest.operation,
        case
            when latest.operation = 'balance' and latest.amount >= 0 then 'deposit'
            when latest.operation = 'balance' then 'withdrawal'
            when latest.operation = 'credit' and latest.amount >= 0 then 'credit_in'
            when latest.operation = 'credit' then 'credit_out'
            else latest.operation
        end as kind,
        latest.amount,
        latest.comment,
        latest._source_file,
        latest._batch_id,
        latest._row_number,
        latest._loaded_at
    from latest
    left join servers on latest.server = servers.server
)

select * from final
