{{ crm_versions('commission_plan', 'plan_id', [
    ['name', 'string'], ['split', 'string'], ['min_hold_seconds', 'integer'],
    ['exclude_symbol_groups', 'string'], ['components', 'string'],
]) }}
