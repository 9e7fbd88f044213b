{{ crm_versions('commission_plan', 'plan_id', [
    ['name', 'varchar'], ['split', 'varchar'], ['min_hold_seconds', 'integer'],
    ['exclude_symbol_groups', 'varchar'], ['components', 'varchar'],
]) }}
