{{ crm_versions('agent', 'agent_id', [
    ['team_id', 'varchar'], ['name', 'varchar'],
]) }}
