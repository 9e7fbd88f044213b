-- Every deal record as loaded, every version of it (intermediate/platform versions them).
with

deals as (
    select * from {{ source('platform', 'deals') }}
),

renamed as (
    select
        platform,
        server,
        ticket,
        order_ticket,
        position_id,
        login,
        time_server,
        action,
        entry,
        raw_symbol,
        lots,
        units,
        price,
        contract_size,
        profit,
        commission,
        swap,
        fee,
        comment,
        _source_file,
        _batch_id,
        _row_number,
        _loaded_at,
        _run_id
    from deals
)

select * from renamed
