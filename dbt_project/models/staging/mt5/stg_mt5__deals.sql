with

deals as (
    select * from {{ source('mt5', 'mt5_deals') }}
),

servers as (
    select * from {{ ref('platform_servers') }}
),

renamed as (
    select
        deals.server,
        servers.platform,
        deals.deal as deal_ticket,
        deals.order_ticket,
        deals.position_id,
        deals.login,
        {{ server_time_to_utc('deals.time', 'servers.time_zone') }} as deal_time_utc,
        {{ epoch_to_timestamp('deals.time') }} as deal_time_server,
        deals.action,
        case deals.action
            when 0 then 'buy'
            when 1 then 'sell'
            when 2 then 'balance'
            when 3 then 'credit'
            when 4 then 'charge'
            when 5 then 'correction'
            when 6 then 'bonus'
            when 7 then 'commission'
            else 'other'
        end as action_name,
        deals.entry,
        case deals.entry
            when 0 then 'in'
            when 1 then 'out'
            when 2 then 'inout'
            when 3 then 'out_by'
        end as entry_name,
        deals.symbol as raw_symbol,
        deals.price,
        deals.contract_size,
        cast(deals.volume_ext / 100000000 as decimal(18, 8)) as lots,
        deals.profit,
        deals.storage as swap,
        deals.commission,
        coalesce(deals.fee, 0) as fee,
        deals.rate_profit,
        deals.comment,
        deals._source_file,
        deals._batch_id,
        deals._row_number,
        deals._loaded_at,
        deals._run_id
    from deals
    left join servers on deals.server = servers.server
)

select * from renamed
