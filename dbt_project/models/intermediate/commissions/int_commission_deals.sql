-- Every trade deal (current version) on an account the CRM knows (commissions.md §3), with its
-- client, whether the account is excluded, whether it closes, its hold time (a closing deal's:
-- from its position's opening; null for an opening deal, whose hold nothing reads) and its money in
-- USD at the rate of its UTC date or the latest earlier one (USD is 1). A currency with no
-- rate on or before a deal's date stops the build naming both (rule 14). Incremental on
-- DuckDB by trade date: a build recomputes the dates int_commission_changed_days names (the
-- pre-hook deletes their rows first), reading the other dates' deals only for the openings of
-- the recomputed deals' positions; a table built whole on Spark.
-- depends_on: {{ ref('int_commission_changed_days') }}
{{ config(
    materialized=commission_lines_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_commission_days() }}",
) }}

with

all_deals as (
    select * from {{ ref('int_deals__symbol_mapped') }}
    where deal_time_utc is not null
),

deals as (
    select * from all_deals
    {% if is_incremental() %}
        where {{ commission_day_changed('cast(deal_time_utc as date)', timestamp='deal_time_utc') }}
    {% endif %}
),

accounts as (
    select * from {{ ref('int_commission_accounts') }}
),

-- the positions the recomputed deals close
recomputed_positions as (
    select distinct
        server,
        login,
        position_id
    from deals
    where entry_name in ('out', 'out_by')
),

-- the opening of each position: its earliest `in` deal, whatever its date (read from the
-- deals' own relation: `all_deals` read twice would be held whole, every deal, past dbt's
-- memory limit at 10M deals)
openings as (
    select
        all_deals.server,
        all_deals.login,
        all_deals.position_id,
        min(all_deals.deal_time_utc) as opened_at
    from {{ ref('int_deals__symbol_mapped') }} as all_deals
    {% if is_incremental() %}
        inner join recomputed_positions as recomputed
            on
                all_deals.server = recomputed.server
                and all_deals.login = recomputed.login
                and all_deals.position_id = recomputed.position_id
    {% endif %}
    where all_deals.entry_name = 'in' and all_deals.deal_time_utc is not null
    group by all_deals.server, all_deals.login, all_deals.position_id
),

known as (
    select
        deals.server,
        deals.deal_ticket as ticket,
        deals.login,
        deals.position_id,
        deals.entry_name as entry,
        deals.deal_time_utc,
        cast(deals.deal_time_utc as date) as trade_date,
        deals.lots,
        deals.profit,
        deals.swap,
        deals.commission,
        deals.fee,
        accounts.client_id,
        accounts.currency,
        accounts.commission_excluded,
        deals._source_file,
        deals._batch_id,
        deals._row_number,
        {{ format_time('deals.deal_time_utc', '%Y-%m') }} as period,
        date_trunc('month', deals.deal_time_utc) as month_start,
        coalesce(deals.symbol_group, 'unmapped') as symbol_group,
        deals.entry_name in ('out', 'out_by') as is_closing,
        {{ epoch_ms('deals.deal_time_utc') }} - {{ epoch_ms('openings.opened_at') }} as hold_ms
    from deals
    inner join accounts on deals.server = accounts.server and deals.login = accounts.login
    left join openings
        on
            deals.server = openings.server
            and deals.login = openings.login
            and {{ closing_position('deals') }} = openings.position_id
),

day_rates as (
    select * from {{ ref('int_commission_day_rates') }}
),

final as (
    select
        known.*,
        case
            when known.currency = 'USD' or known.currency is null then 1
            when day_rates.usd_per_unit is null
                then {{ raise_error(
                    "'commissions: no USD rate for ' || known.currency || ' on or before '
                    || cast(known.trade_date as string)"
                ) }}
            else day_rates.usd_per_unit
        end as usd_rate
    from known
    left join day_rates
        on known.currency = day_rates.currency and known.trade_date = day_rates.trade_date
)

select * from final
