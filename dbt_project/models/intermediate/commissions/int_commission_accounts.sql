-- The trading accounts the CRM knows (commissions.md §1), current version: each account's
-- client, currency and whether it is excluded from commissions (default: not).
with

accounts as (
    select * from {{ ref('int_crm__trading_accounts') }}
    where is_current and login is not null
),

final as (
    select
        server,
        login,
        client_id,
        currency,
        coalesce(commission_excluded, false) as commission_excluded
    from accounts
)

select * from final
