{{ crm_versions('follow_up', 'follow_up_id', [
    ['lead_id', 'string'], ['due_at', 'utc_timestamp'], ['note', 'string'],
    ['owner_id', 'string'], ['status', 'string'], ['completed_at', 'utc_timestamp'],
    ['outcome', 'string'], ['client_id', 'string'],
]) }}
