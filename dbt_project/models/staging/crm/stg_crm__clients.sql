{{ crm_versions('client', 'client_id', [
    ['name', 'varchar'], ['email', 'varchar'], ['phone', 'varchar'], ['country', 'varchar'],
    ['language', 'varchar'], ['birth_date', 'date'], ['lead_id', 'varchar'],
    ['owner_id', 'varchar'], ['owner', 'varchar'], ['kyc_status', 'varchar'],
    ['kyc_expires_on', 'date'], ['risk_level', 'varchar'], ['category', 'varchar'],
    ['appropriateness_score', 'integer'], ['screening', 'varchar'], ['status', 'varchar'],
    ['partner_id', 'varchar'], ['trading_enabled', 'boolean'], ['close_only', 'boolean'],
    ['deposits_enabled', 'boolean'], ['withdrawals_enabled', 'boolean'],
    ['kyc_approved_at', 'timestamptz'],
]) }}
