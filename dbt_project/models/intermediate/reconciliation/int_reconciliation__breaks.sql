-- Every break this build finds, from every check, with its stable id and severity.
-- A table on DuckDB too: as a view, the five checks stacked under it ran twice, once for the
-- break history and once more for the unique test on break_id (10 s of a 1M-deal build's
-- 20 s of reconciliation node time).
{{ config(materialized='table') }}

with

{%- set checks = [
    'int_reconciliation__accounts', 'int_reconciliation__money', 'int_reconciliation__balance',
    'int_reconciliation__status', 'int_reconciliation__payouts',
] %}

-- Every check gives these columns (named, as Spark has no union by name).
found as (
    {%- for check in checks %}
        select
            check_name,
            break_type,
            server,
            login,
            client_id,
            payment_id,
            partner_id,
            ticket,
            break_day,
            currency,
            expected,
            actual,
            difference,
            money_at_stake,
            crm_ref,
            platform_ref
        from {{ ref(check) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

platform_accounts as (
    select
        server,
        login,
        currency
    from {{ ref('int_platform__accounts') }}
),

rates as (
    select * from {{ ref('stg_market__fx_rates') }}
),

keyed as (
    select
        found.*,
        coalesce(found.currency, platform_accounts.currency) as money_currency,
        -- the key names the difference, not its amounts: a payment by its id, a platform
        -- operation by its ticket, a paid statement by its partner and month, the rest by
        -- login (and day, for a day's balance)
        case
            when found.break_type in ('payout_not_recorded', 'payout_amount_mismatch')
                then found.partner_id || '|' || found.break_day
            when found.payment_id is not null then found.payment_id
            when found.ticket is not null then found.server || '|' || found.ticket
            else concat_ws('|', found.server, found.login, found.partner_id, found.break_day)
        end as break_key
    from found
    left join platform_accounts
        on found.server = platform_accounts.server and found.login = platform_accounts.login
),

-- Money at stake in USD at the latest rate on or before the break's day (the latest rate for
-- breaks without a day); USD is 1, whether or not the rate table lists it.
valued as (
    select
        keyed.*,
        -- money (18 digits) times a 19-digit rate: exact, 10 decimals, on both engines
        cast(keyed.money_at_stake as decimal(18, 2))
        * cast(
            case when keyed.money_currency = 'USD' then 1 else rates.usd_per_unit end
            as decimal(19, 8)
        ) as money_at_stake_usd
    from keyed
    left join rates
        on
            keyed.money_currency = rates.currency
            and rates.rate_date <= coalesce(keyed.break_day, rates.rate_date)
    qualify row_number() over (
        partition by keyed.check_name, keyed.break_type, keyed.break_key
        order by rates.rate_date desc nulls last
    ) = 1
)

select
    check_name,
    break_type,
    server,
    login,
    client_id,
    payment_id,
    partner_id,
    ticket,
    break_day,
    money_currency as currency,
    expected,
    actual,
    difference,
    money_at_stake,
    money_at_stake_usd,
    crm_ref,
    platform_ref,
    md5(concat_ws('|', check_name, break_type, break_key)) as break_id,
    case
        when check_name = 'status' then 'high'
        when coalesce(money_at_stake_usd, money_at_stake) >= 1000 then 'high'
        when break_type = 'group_mismatch' then 'low'
        else 'medium'
    end as severity
from valued
