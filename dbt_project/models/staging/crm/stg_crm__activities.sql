{{ crm_versions('activity', 'activity_id', [
    ['lead_id', 'varchar'], ['kind', 'varchar'], ['summary', 'varchar'],
    ['occurred_at', 'timestamptz', 'activity_at'], ['by', 'varchar', 'logged_by'],
]) }}
