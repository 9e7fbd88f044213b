{{ crm_versions('user', 'user_id', [
    ['username', 'varchar'], ['full_name', 'varchar'], ['role', 'varchar'],
    ['team', 'varchar', 'team_id'], ['agent_id', 'varchar'], ['active', 'boolean'],
]) }}
