-- Each trading account as the platform last reported it.
with

latest as (
    {{ latest_version(ref('stg_platform__accounts'), ['server', 'login']) }}
),

final as (
    select
        platform,
        server,
        login,
        group_name,
        leverage,
        currency,
        rights,
        balance,
        credit,
        registered_server,
        client_ref,
        country,
        _source_file,
        _batch_id,
        _row_number,
        _loaded_at
    from latest
)

select * from final
