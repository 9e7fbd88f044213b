{{ crm_versions('trading_account', 'account_id', [
    ['client_id', 'varchar'], ['platform', 'varchar'], ['server', 'varchar'],
    ['group', 'varchar', 'account_group'], ['currency', 'varchar'], ['leverage', 'integer'],
    ['account_type', 'varchar'], ['login', 'bigint'], ['status', 'varchar'],
    ['commission_excluded', 'boolean'],
]) }}
