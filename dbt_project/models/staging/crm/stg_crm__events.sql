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
        occurred_at,
        reason,
        hash,
        _batch_id,
        _loaded_at,
        _run_id
    from events
)

select * from renamed
