with

rates as (
    select * from {{ source('market', 'fx_rates') }}
),

renamed as (
    select
        rate_date,
        currency,
        usd_per_unit,
        _source_file,
        _batch_id,
        _row_number
    from rates
)

select * from renamed
