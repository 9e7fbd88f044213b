{{ crm_versions('trading_server', 'server', [
    ['platform', 'string'], ['time_zone', 'string'],
]) }}
