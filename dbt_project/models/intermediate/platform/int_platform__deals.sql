-- The current version of every deal, with its time in UTC beside the server's own clock.
with

versions as (
    select * from {{ ref('int_platform__deal_versions') }}
    where is_current
),

servers as (
    select * from {{ ref('int_crm__trading_servers') }}
    where is_current
),

final as (
    select
        versions.platform,
        versions.server,
        versions.ticket as deal_ticket,
        versions.order_ticket,
        versions.position_id,
        versions.login,
        {{ server_time_to_utc(
            'versions.time_server',
            "coalesce(servers.time_zone, case when versions.platform = 'cTrader' then 'UTC' end)"
        ) }} as deal_time_utc,
        versions.time_server as deal_time_server,
        versions.action as action_name,
        versions.entry as entry_name,
        versions.raw_symbol,
        versions.lots,
        versions.units,
        versions.price,
        versions.contract_size,
        versions.profit,
        versions.swap,
        versions.commission,
        versions.fee,
        versions.comment,
        versions.version_number,
        versions._source_file,
        versions._batch_id,
        versions._row_number,
        versions._loaded_at,
        versions._run_id
    from versions
    left join servers on versions.server = servers.server
)

select * from final
