with

events as (
    select * from {{ source('crm', 'crm_events') }}
),

renamed as (
    select
        seq,
        event_id,
        record_type,
        record_id,
        record_version,
        event_type,
        payload,
        state,
        actor,
        actor_role,
        {{ utc_timestamp('occurred_at') }} as occurred_at,
        reason,
        hash,
        _batch_id,
        {{ utc_timestamp('_loaded_at') }} as _loaded_at,
        _run_id
    from events
)

select * from renamed
