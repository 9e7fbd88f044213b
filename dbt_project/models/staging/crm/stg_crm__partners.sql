{{ crm_versions('partner', 'partner_id', [
    ['name', 'varchar'], ['kind', 'varchar'], ['email', 'varchar'], ['country', 'varchar'],
    ['parent_id', 'varchar'], ['level', 'integer'], ['active', 'boolean'],
    ['min_payout_usd', 'decimal(18, 2)'],
    ['referral_codes', 'varchar'],
]) }}
