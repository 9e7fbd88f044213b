-- The status check: a login the platform lets trade although the CRM has closed its account
-- or suspended or closed its client.
with

accounts as (
    select * from {{ ref('int_crm__trading_accounts') }}
    where is_current
),

clients as (
    select * from {{ ref('int_crm__clients') }}
    where is_current
),

-- MT5 Rights: ENABLED (1) set and TRADE_DISABLED (4) not set. MT4 and cTrader feeds carry no
-- account rights, so their logins cannot be checked here.
enabled_logins as (
    select
        server,
        login,
        rights,
        _source_file || ' row ' || _row_number as platform_ref
    from {{ ref('int_platform__accounts') }}
    where platform = 'MT5' and (rights & 1) = 1 and (rights & 4) = 0
),

breaks as (
    select
        enabled_logins.server,
        enabled_logins.login,
        accounts.client_id,
        enabled_logins.platform_ref,
        -- a closed account names the more specific cause when its client is inactive too
        case
            when accounts.status = 'closed' then 'trading_enabled_for_closed_account'
            else 'trading_enabled_for_inactive_client'
        end as break_type,
        case
            when accounts.status = 'closed' then 'account closed'
            else 'client ' || clients.status
        end as expected,
        case
            when accounts.status = 'closed' then accounts._event_id
            else clients._event_id
        end as crm_ref
    from enabled_logins
    inner join accounts
        on enabled_logins.server = accounts.server and enabled_logins.login = accounts.login
    inner join clients on accounts.client_id = clients.client_id
    where accounts.status = 'closed' or clients.status in ('suspended', 'closed')
)

select
    'status' as check_name,
    break_type,
    server,
    login,
    client_id,
    cast(null as string) as payment_id,
    cast(null as string) as partner_id,
    cast(null as bigint) as ticket,
    cast(null as date) as break_day,
    cast(null as string) as currency,
    expected,
    'trading enabled' as actual,
    cast(null as decimal(18, 2)) as difference,
    cast(null as decimal(18, 2)) as money_at_stake,
    crm_ref,
    platform_ref
from breaks
