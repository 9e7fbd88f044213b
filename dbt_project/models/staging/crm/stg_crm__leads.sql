{{ crm_versions('lead', 'lead_id', [
    ['name', 'varchar'], ['email', 'varchar'], ['phone', 'varchar'], ['country', 'varchar'],
    ['language', 'varchar'], ['source', 'varchar'], ['campaign', 'varchar'],
    ['referral_code', 'varchar'], ['status', 'varchar'], ['owner_id', 'varchar'],
    ['owner', 'varchar'], ['created_by', 'varchar'], ['first_contacted_at', 'timestamptz'],
    ['client_id', 'varchar'],
    ['partner_id', 'varchar'], ['owner_agent_id', 'varchar'], ['imported_from', 'varchar'],
]) }}
