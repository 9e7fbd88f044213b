{{ crm_versions('commission_statement', 'statement_id', [
    ['partner_id', 'varchar'], ['period', 'varchar'], ['status', 'varchar'],
    ['components', 'varchar'], ['has_payout', 'boolean'], ['earned', 'decimal(18, 2)'],
    ['carried_in', 'decimal(18, 2)'], ['payable', 'decimal(18, 2)'],
    ['carried_out', 'decimal(18, 2)'], ['approved_by', 'varchar'],
    ['paid_reference', 'varchar'],
]) }}
