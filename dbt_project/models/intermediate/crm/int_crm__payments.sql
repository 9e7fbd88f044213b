{{ crm_versions('payment', 'payment_id', [
    ['client_id', 'string'], ['account_id', 'string'], ['kind', 'string'],
    ['method', 'string'], ['amount', 'decimal(18, 2)'], ['currency', 'string'],
    ['fee', 'decimal(18, 2)'], ['status', 'string'], ['requested_by', 'string'],
    ['approved_by', 'string'], ['deal_ticket', 'bigint'],
    ['executed_at', 'utc_timestamp'], ['imported_from', 'string'],
    ['reference', 'string'], ['partner_id', 'string'], ['statement_id', 'string'],
]) }}
