{{ crm_versions('payment', 'payment_id', [
    ['client_id', 'varchar'], ['account_id', 'varchar'], ['kind', 'varchar'],
    ['method', 'varchar'], ['amount', 'decimal(18, 2)'], ['currency', 'varchar'],
    ['fee', 'decimal(18, 2)'], ['status', 'varchar'], ['requested_by', 'varchar'],
    ['approved_by', 'varchar'], ['deal_ticket', 'bigint'],
    ['executed_at', 'timestamptz'], ['imported_from', 'varchar'],
    ['reference', 'varchar'], ['partner_id', 'varchar'], ['statement_id', 'varchar'],
]) }}
