-- Trading servers that landed files name but nobody registered in the CRM: their deals and
-- balance operations are loaded and kept, but without a time zone they have no UTC time, so
-- the marts leave them out until an admin registers the server.
with

deals as (
    select * from {{ ref('int_platform__deal_versions') }}
    where is_current
),

servers as (
    select * from {{ ref('int_crm__trading_servers') }}
    where is_current
),

unregistered as (
    select
        deals.platform,
        deals.server,
        count(*) as deals,
        min(deals.time_server) as first_deal_time_server,
        max(deals.time_server) as last_deal_time_server
    from deals
    left join servers on deals.server = servers.server
    where servers.server is null and deals.platform != 'cTrader'
    group by deals.platform, deals.server
),

final as (
    select
        platform,
        server,
        deals,
        first_deal_time_server,
        last_deal_time_server,
        'register trading server ' || server || ' (platform ' || platform
        || ', IANA time zone) on the Users page, or import it in platform_servers.csv'
        || ' with fxcrm crm import' as how_to_register
    from unregistered
)

select * from final
