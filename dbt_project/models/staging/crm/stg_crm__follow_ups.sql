{{ crm_versions('follow_up', 'follow_up_id', [
    ['lead_id', 'varchar'], ['due_at', 'timestamptz'], ['note', 'varchar'],
    ['owner_id', 'varchar'], ['status', 'varchar'], ['completed_at', 'timestamptz'],
    ['outcome', 'varchar'], ['client_id', 'varchar'],
]) }}
