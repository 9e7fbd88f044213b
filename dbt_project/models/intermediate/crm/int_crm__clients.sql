{{ crm_versions('client', 'client_id', [
    ['name', 'string'], ['email', 'string'], ['phone', 'string'], ['country', 'string'],
    ['language', 'string'], ['birth_date', 'date'], ['lead_id', 'string'],
    ['owner_id', 'string'], ['owner', 'string'], ['kyc_status', 'string'],
    ['kyc_expires_on', 'date'], ['risk_level', 'string'], ['category', 'string'],
    ['appropriateness_score', 'integer'], ['screening', 'string'], ['status', 'string'],
    ['partner_id', 'string'], ['trading_enabled', 'boolean'], ['close_only', 'boolean'],
    ['deposits_enabled', 'boolean'], ['withdrawals_enabled', 'boolean'],
    ['kyc_approved_at', 'utc_timestamp'],
]) }}
