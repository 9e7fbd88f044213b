-- Every balance operation record as loaded, every version of it.
with

balance_operations as (
    select * from {{ source('platform', 'balance_operations') }}
),

renamed as (
    select
        platform,
        server,
        ticket as operation_ticket,
        login,
        time_server as operation_time_server,
        operation,
        amount,
        comment,
        _source_file,
        _batch_id,
        _row_number,
        _loaded_at,
        _run_id
    from balance_operations
)

select * from renamed
