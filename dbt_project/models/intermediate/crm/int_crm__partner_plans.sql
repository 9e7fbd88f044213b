{{ crm_versions('partner_plan', 'assignment_id', [
    ['partner_id', 'string'], ['plan_id', 'string'], ['effective_from', 'timestamp'],
]) }}
