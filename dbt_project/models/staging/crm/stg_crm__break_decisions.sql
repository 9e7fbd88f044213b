{{ crm_versions('reconciliation_break', 'break_id', [
    ['status', 'varchar'], ['note', 'varchar'],
]) }}
