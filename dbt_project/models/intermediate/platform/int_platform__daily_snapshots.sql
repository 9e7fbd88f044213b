-- One end-of-day statement per account and server day, the latest the platform sent.
with

latest as (
    {{ latest_version(ref('stg_platform__daily_snapshots'), ['server', 'login', 'server_day']) }}
),

final as (
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
        _loaded_at
    from latest
)

select * from final
