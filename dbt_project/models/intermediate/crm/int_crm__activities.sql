{{ crm_versions('activity', 'activity_id', [
    ['lead_id', 'string'], ['kind', 'string'], ['summary', 'string'],
    ['occurred_at', 'utc_timestamp', 'activity_at'], ['by', 'string', 'logged_by'],
]) }}
