{{ crm_versions('partner', 'partner_id', [
    ['name', 'string'], ['kind', 'string'], ['email', 'string'], ['country', 'string'],
    ['parent_id', 'string'], ['level', 'integer'], ['active', 'boolean'],
    ['min_payout_usd', 'decimal(18, 2)'],
    ['referral_codes', 'string'],
]) }}
