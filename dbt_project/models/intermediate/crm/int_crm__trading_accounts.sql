{{ crm_versions('trading_account', 'account_id', [
    ['client_id', 'string'], ['platform', 'string'], ['server', 'string'],
    ['group', 'string', 'account_group'], ['currency', 'string'], ['leverage', 'integer'],
    ['account_type', 'string'], ['login', 'bigint'], ['status', 'string'],
    ['commission_excluded', 'boolean'],
]) }}
