{{ crm_versions('trading_server', 'server', [
    ['platform', 'varchar'], ['time_zone', 'varchar'],
]) }}
