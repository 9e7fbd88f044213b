{{ crm_versions('spread_markup', 'symbol_group', [
    ['usd_per_lot', 'decimal(18, 8)'],
]) }}
