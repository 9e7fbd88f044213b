{{ crm_versions('reconciliation_break', 'break_id', [
    ['status', 'string'], ['note', 'string'],
]) }}
