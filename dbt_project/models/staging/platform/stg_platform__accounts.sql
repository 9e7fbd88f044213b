-- Every trading account record as loaded, one per account per snapshot file.
with

platform_accounts as (
    select * from {{ source('platform', 'platform_accounts') }}
),

renamed as (
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
        _loaded_at,
        _run_id
    from platform_accounts
)

select * from renamed
