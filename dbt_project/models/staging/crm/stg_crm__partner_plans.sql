{{ crm_versions('partner_plan', 'assignment_id', [
    ['partner_id', 'varchar'], ['plan_id', 'varchar'], ['effective_from', 'timestamp'],
]) }}
