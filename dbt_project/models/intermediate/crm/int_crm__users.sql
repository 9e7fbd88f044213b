{{ crm_versions('user', 'user_id', [
    ['username', 'string'], ['full_name', 'string'], ['role', 'string'],
    ['team', 'string', 'team_id'], ['agent_id', 'string'], ['active', 'boolean'],
]) }}
