-- What each trade date's commission deals are computed from, as one fingerprint per date, so
-- the incremental builds (int_commission_deals, int_commission_eligible_deals,
-- fct_commission_lines) can tell which dates changed since the last build without building
-- every deal again: each deal's own columns (late files, corrections), its account (client,
-- currency, exclusion), its client's links (a back-dated link), its position's opening (the
-- hold), the USD rates of the date and, per month, the partners' plan assignments and those
-- plans' hold and exclusions. Reads the deals once, writes one row per date.
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

accounts as (
    select * from {{ ref('int_commission_accounts') }}
),

client_links as (
    select
        client_id,
        sum({{ hash_value(['partner_id', 'linked_from', 'linked_to']) }}) as links_hash
    from {{ ref('int_commission_links') }}
    group by client_id
),

-- read from the deals' own relation, not the CTE above: referenced once, `deals` is streamed
-- rather than held whole (at 10M deals, held, it spilled past dbt's memory limit: 7 s, not 3)
openings as (
    select
        server,
        login,
        position_id,
        min(deal_time_utc) as opened_at
    from {{ ref('int_deals__symbol_mapped') }}
    where entry_name = 'in' and deal_time_utc is not null
    group by server, login, position_id
),

known as (
    select
        deals.*,
        accounts.client_id,
        accounts.currency,
        accounts.commission_excluded,
        client_links.links_hash,
        openings.opened_at
    from deals
    left join accounts on deals.server = accounts.server and deals.login = accounts.login
    left join client_links on accounts.client_id = client_links.client_id
    left join openings
        on
            deals.server = openings.server
            and deals.login = openings.login
            and deals.position_id = openings.position_id
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
        count(*) as deal_count,
        sum({{ hash_value([
            'server', 'deal_ticket', 'login', 'position_id', 'entry_name', 'deal_time_utc',
            'symbol_group', 'lots', 'profit', 'swap', 'commission', 'fee', '_source_file',
            '_batch_id', '_row_number', 'client_id', 'currency', 'commission_excluded',
            'links_hash', 'opened_at',
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
        concat_ws(
            ':',
            days.deal_count,
            days.deals_hash,
            coalesce(cast(rates_by_day.rates_hash as string), '-'),
            coalesce(cast(plans_by_month.plans_hash as string), '-')
        ) as fingerprint
    from days
    left join rates_by_day on days.trade_date = rates_by_day.trade_date
    left join plans_by_month on days.month_start = plans_by_month.month_start
)

select * from final
