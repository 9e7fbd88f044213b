{{ crm_versions('lead', 'lead_id', [
    ['name', 'string'], ['email', 'string'], ['phone', 'string'], ['country', 'string'],
    ['language', 'string'], ['source', 'string'], ['campaign', 'string'],
    ['referral_code', 'string'], ['status', 'string'], ['owner_id', 'string'],
    ['owner', 'string'], ['created_by', 'string'], ['first_contacted_at', 'utc_timestamp'],
    ['client_id', 'string'],
    ['partner_id', 'string'], ['owner_agent_id', 'string'], ['imported_from', 'string'],
]) }}
