-- How current each feed is: the latest record and the latest load, for "data as of" stamps.
with

deals as (
    select * from {{ ref('int_platform__deals') }}
),

operations as (
    select * from {{ ref('int_platform__balance_operations') }}
),

snapshots as (
    select * from {{ ref('int_platform__daily_snapshots') }}
),

rates as (
    select * from {{ ref('stg_market__fx_rates') }}
),

crm_events as (
    select * from {{ ref('stg_crm__events') }}
),

freshness as (
    select
        'deals' as feed,
        max(deal_time_utc) as latest_record_at_utc,
        max(_loaded_at) as latest_load_at,
        count(*) as records
    from deals
    union all
    select
        'balance_operations' as feed,
        max(operation_time_utc) as latest_record_at_utc,
        max(_loaded_at) as latest_load_at,
        count(*) as records
    from operations
    union all
    select
        'daily_snapshots' as feed,
        cast(max(server_day) as timestamp) as latest_record_at_utc,
        max(_loaded_at) as latest_load_at,
        count(*) as records
    from snapshots
    union all
    select
        'fx_rates' as feed,
        cast(max(rate_date) as timestamp) as latest_record_at_utc,
        null as latest_load_at,
        count(*) as records
    from rates
    union all
    select
        'crm_events' as feed,
        max(occurred_at) as latest_record_at_utc,
        max(_loaded_at) as latest_load_at,
        count(*) as records
    from crm_events
)

select * from freshness
