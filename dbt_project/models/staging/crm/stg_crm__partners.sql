{{ crm_versions('partner', 'partner_id', [
    ['name', 'varchar'], ['kind', 'varchar'], ['email', 'varchar'], ['country', 'varchar'],
    ['parent_id', 'varchar'], ['level', 'integer'], ['active', 'boolean'],
    ['referral_codes', 'varchar'],
]) }}
