-- Every end-of-day statement as loaded, re-sent ones included.
with

daily_snapshots as (
    select * from {{ source('platform', 'daily_snapshots') }}
),

renamed as (
    select
        platform,
        server,
        login,
        server_day,
        group_name,
        currency,
        balance_prev_day,
        balance,
        credit,
        equity,
        margin,
        margin_free,
        floating_profit,
        _source_file,
        _batch_id,
        _row_number,
        _loaded_at,
        _run_id
    from daily_snapshots
)

select * from renamed
