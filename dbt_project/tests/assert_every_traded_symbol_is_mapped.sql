-- A traded symbol the map does not know: its deals are kept (group 'unmapped') but have no USD
-- notional until someone adds the instrument to the symbols seed. Warns, naming each one.
{{ config(severity='warn') }}

select
    platform,
    server,
    raw_symbol,
    canonical_symbol
from {{ ref('int_symbol_map') }}
where symbol_group = 'unmapped'
