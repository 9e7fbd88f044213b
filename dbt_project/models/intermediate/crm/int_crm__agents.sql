{{ crm_versions('agent', 'agent_id', [
    ['team_id', 'string'], ['name', 'string'],
]) }}
