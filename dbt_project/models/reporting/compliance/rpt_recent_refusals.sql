-- Refused commands and refused or locked sign-ins from the audit trail in the 30 days before
-- build time (as_of), newest first: what compliance reviews for misuse.
select
    seq,
    event_id,
    occurred_at,
    event_type,
    actor,
    actor_role,
    record_type,
    record_id,
    reason,
    {{ json_text('payload', 'command') }} as command,
    {{ json_text('payload', 'why') }} as why
from {{ ref('stg_crm__events') }}
where
    event_type in ('command.refused', 'user.sign_in_refused', 'user.sign_in_locked')
    and occurred_at >= {{ as_of() }} - interval 30 day
