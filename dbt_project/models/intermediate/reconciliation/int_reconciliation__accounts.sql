-- The accounts check: CRM trading accounts that are not closed against the platform's latest
-- record of each login, by (server, login), on the servers whose platform sends account records.
with

crm_accounts as (
    select * from {{ ref('int_crm__trading_accounts') }}
    where is_current and status <> 'closed'
),

platform_accounts as (
    select * from {{ ref('int_platform__accounts') }}
),

-- A server whose feed carries no account records (MT4 trade files, cTrader deal lists) cannot
-- say a login is missing: only servers that send accounts are compared.
reporting_servers as (
    select distinct server from platform_accounts
),

registered_servers as (
    select server from {{ ref('int_crm__trading_servers') }}
    where is_current
),

compared as (
    select
        coalesce(crm_side.server, platform_side.server) as server,  -- noqa: RF04
        coalesce(crm_side.login, platform_side.login) as login,  -- noqa: RF04
        crm_side.client_id,
        crm_side.account_group as crm_group,
        platform_side.group_name as platform_group,
        crm_side.leverage as crm_leverage,
        platform_side.leverage as platform_leverage,
        crm_side.login is not null as in_crm,
        platform_side.login is not null as on_platform,
        crm_side._event_id as crm_ref,
        platform_side._source_file || ' row ' || platform_side._row_number as platform_ref
    from crm_accounts as crm_side
    full outer join platform_accounts as platform_side
        on crm_side.server = platform_side.server and crm_side.login = platform_side.login
),

breaks as (
    select
        'account_missing_on_platform' as break_type,
        *,
        cast(login as string) as expected,
        cast(null as string) as actual
    from compared
    where not on_platform and server in (select reporting_servers.server from reporting_servers)

    union all

    select
        'account_missing_in_crm' as break_type,
        *,
        cast(null as string) as expected,
        cast(login as string) as actual
    from compared
    where not in_crm and server in (select registered_servers.server from registered_servers)

    union all

    select
        'group_mismatch' as break_type,
        *,
        crm_group as expected,
        platform_group as actual
    from compared
    where in_crm and on_platform and crm_group <> platform_group

    union all

    select
        'leverage_mismatch' as break_type,
        *,
        cast(crm_leverage as string) as expected,
        cast(platform_leverage as string) as actual
    from compared
    where in_crm and on_platform and crm_leverage <> platform_leverage
)

select
    'accounts' as check_name,
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
    actual,
    cast(null as decimal(18, 2)) as difference,
    cast(null as decimal(18, 2)) as money_at_stake,
    crm_ref,
    platform_ref
from breaks
