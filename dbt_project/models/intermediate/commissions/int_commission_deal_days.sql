-- What each trade date's commission deals are computed from, as one fingerprint per date, so
-- the incremental builds (int_commission_deals, int_commission_eligible_deals,
-- fct_commission_lines) can tell which dates changed since the last build without building
-- every deal again: each deal's own columns (late files, corrections), its account (client,
-- currency, exclusion), its client's links (a back-dated link), the USD rates of the date and,
-- per month, the partners' plan assignments and those plans' hold and exclusions. Writes one
-- row per date. A closing deal's hold, which runs from its position's opening deal on whatever
-- date, is not in its date's fingerprint: int_commission_changed_days adds the dates of the
-- closing deals whose position's opening changed (joining every closing deal to its opening
-- here was half of this model's time at 10M deals).
{{ config(materialized='table') }}

with

deals as (
    select
        server,
        deal_ticket,
        login,
        position_id,
        entry_name,
        deal_time_utc,
        symbol_group,
        lots,
        profit,
        swap,
        commission,
        fee,
        _source_file,
        _batch_id,
        _row_number,
        cast(deal_time_utc as date) as trade_date,
        date_trunc('month', deal_time_utc) as month_start
    from {{ ref('int_deals__symbol_mapped') }}
    where deal_time_utc is not null
),

client_links as (
    select
        client_id,
        sum({{ hash_value(['partner_id', 'linked_from', 'linked_to']) }}) as links_hash
    from {{ ref('int_commission_links') }}
    group by client_id
),

-- each account's client, currency, exclusion and that client's links, as one hash: the deals
-- join one small relation, not two
accounts as (
    select
        known_accounts.server,
        known_accounts.login,
        {{ hash_value([
            'known_accounts.client_id', 'known_accounts.currency',
            'known_accounts.commission_excluded', 'client_links.links_hash',
        ]) }} as account_hash
    from {{ ref('int_commission_accounts') }} as known_accounts
    left join client_links on known_accounts.client_id = client_links.client_id
),

known as (
    select
        deals.*,
        accounts.account_hash
    from deals
    left join accounts on deals.server = accounts.server and deals.login = accounts.login
),

-- the rates of every account currency on each date
rates_by_day as (
    select
        trade_date,
        sum({{ hash_value(['currency', 'rate_date', 'usd_per_unit']) }}) as rates_hash
    from {{ ref('int_commission_day_rates') }}
    group by trade_date
),

days as (
    select
        trade_date,
        month_start,
        count(*) as row_count,
        sum({{ hash_value([
            'server', 'deal_ticket', 'login', 'position_id', 'entry_name', 'deal_time_utc',
            'symbol_group', 'lots', 'profit', 'swap', 'commission', 'fee', '_source_file',
            '_batch_id', '_row_number', 'account_hash',
        ]) }}) as deals_hash
    from known
    group by trade_date, month_start
),

-- the plan assignments in force at each month's start, with those plans' hold and exclusions
plans_by_month as (
    select
        months.month_start,
        sum({{ hash_value([
            'partner_plans.partner_id', 'partner_plans.plan_id', 'plan_terms.min_hold_ms',
            'plan_terms.exclude_symbol_groups',
        ]) }}) as plans_hash
    from (select distinct month_start from days) as months
    inner join {{ ref('int_commission_partner_plans') }} as partner_plans
        on
            months.month_start >= partner_plans.plan_from
            and (partner_plans.plan_to is null or months.month_start < partner_plans.plan_to)
    left join {{ ref('int_commission_plans') }} as plan_terms
        on partner_plans.plan_id = plan_terms.plan_id
    group by months.month_start
),

final as (
    select
        'day' as kind,
        days.trade_date,
        cast(null as string) as l1_partner_id,
        cast(null as string) as period,
        cast(null as string) as client_bucket,
        concat_ws(
            ':',
            days.row_count,
            days.deals_hash,
            coalesce(cast(rates_by_day.rates_hash as string), '-'),
            coalesce(cast(plans_by_month.plans_hash as string), '-')
        ) as fingerprint
    from days
    left join rates_by_day on days.trade_date = rates_by_day.trade_date
    left join plans_by_month on days.month_start = plans_by_month.month_start
)

select * from final
