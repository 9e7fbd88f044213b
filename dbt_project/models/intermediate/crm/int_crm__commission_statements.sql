{{ crm_versions('commission_statement', 'statement_id', [
    ['partner_id', 'string'], ['period', 'string'], ['status', 'string'],
    ['components', 'string'], ['has_payout', 'boolean'], ['earned', 'decimal(18, 2)'],
    ['carried_in', 'decimal(18, 2)'], ['payable', 'decimal(18, 2)'],
    ['carried_out', 'decimal(18, 2)'], ['approved_by', 'string'],
    ['paid_reference', 'string'], ['adjustments', 'string'],
]) }}
