-- cpa (commissions.md §4, rule 6): once per client, to the partner linked at the client's first
-- deposit (its earliest positive balance operation on a known, non-excluded account). The
-- client qualifies at the first closing deal (any group, hold or partner, on its known,
-- non-excluded accounts, at or after the deposit) at which its lots since the deposit reach
-- the min_lots of the cpa component of that partner's plan for the deal's month; a month
-- whose plan has no cpa cannot qualify. The deposit threshold (in USD at the deposit day's
-- rate) and the window (within_days x 24 h, inclusive) are tested with the same component;
-- if either fails there is no CPA, ever. The first deposits are int_commission_first_deposits.
-- Incremental on DuckDB by client, as the lines are by date: a build deletes (the pre-hook) and
-- computes again the cpa of the clients commission_cpa_recomputed names (every client at the
-- first build), so the table always holds every client's cpa and fct_commission_lines takes
-- the recomputed ones; a table built whole on Spark.
-- depends_on: {{ ref('int_commission_cpa_clients') }}, {{ ref('int_commission_changes') }}
{{ config(
    materialized=commission_lines_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_recomputed_cpa() }}",
) }}

with

first_deposits as (
    select * from {{ ref('int_commission_first_deposits') }}
    {% if is_incremental() %}
        where {{ commission_cpa_recomputed('client_id') }}
    {% endif %}
),

-- the longest qualifying window of any plan's cpa, in ms (null when one has none). A closing
-- deal later than that after the deposit can never qualify (the window is tested at the
-- qualifying deal, and the lots before it are the deals before it), so each client's deals
-- are read up to there: a month of them, not the client's whole history.
cpa_window as (
    select {{ cpa_window_ms() }} as window_ms
),

candidates as (
    select
        first_deposits.*,
        deals.server,
        deals.ticket,
        deals.login,
        deals.position_id,
        deals.entry,
        deals.deal_time_utc,
        deals.period,
        deals._source_file,
        deals._batch_id,
        deals._row_number,
        partner_plans.plan_id,
        sum(deals.lots) over (
            partition by deals.client_id
            order by deals.deal_time_utc, deals.server, deals.ticket
            rows unbounded preceding
        ) as lots_since_deposit
    from first_deposits
    inner join {{ ref('int_commission_deals') }} as deals
        on
            first_deposits.client_id = deals.client_id
            and first_deposits.deposit_time_utc <= deals.deal_time_utc
    left join {{ ref('int_commission_partner_plans') }} as partner_plans
        on
            first_deposits.cpa_partner_id = partner_plans.partner_id
            and deals.month_start >= partner_plans.plan_from
            -- an open end as the year 9999, so the join keeps its key (an OR would loop over pairs)
            and deals.month_start
            < coalesce(partner_plans.plan_to, cast('9999-12-31 00:00:00' as timestamp))
    cross join cpa_window
    where
        deals.is_closing
        and not deals.commission_excluded
        and (
            cpa_window.window_ms is null
            or {{ epoch_ms('deals.deal_time_utc') }}
            - {{ epoch_ms('first_deposits.deposit_time_utc') }} <= cpa_window.window_ms
        )
),

qualifying as (
    select
        candidates.*,
        components.amount_usd,
        components.min_deposit_usd,
        components.min_lots,
        components.within_days
    from candidates
    inner join {{ ref('int_commission_plan_components') }} as components
        on candidates.plan_id = components.plan_id and components.component = 'cpa'
    where candidates.lots_since_deposit >= components.min_lots
    qualify row_number() over (
        partition by candidates.client_id
        order by candidates.deal_time_utc, candidates.server, candidates.ticket
    ) = 1
),

final as (
    select
        'cpa' as component,
        'cpa' as source,
        cpa_partner_id as l1_partner_id,
        plan_id,
        period,
        deal_time_utc as line_time,
        client_id,
        cast(null as string) as symbol_group,
        amount_usd as rate,
        deposit_usd as base,
        cast(amount_usd as decimal(38, 12)) as l1_amount,
        server,
        ticket,
        login,
        position_id,
        entry,
        deposit_ticket,
        deposit_time_utc,
        _source_file,
        _batch_id,
        _row_number,
        'first deposit ' || {{ decimal_text('deposit_usd', 12) }}
        || ' USD (min ' || {{ decimal_text('min_deposit_usd', 8) }} || '), '
        || {{ decimal_text('lots_since_deposit', 8) }} || ' lots (min '
        || {{ decimal_text('min_lots', 8) }}
        || ') after '
        || cast({{ integer_divide(
            epoch_ms('deal_time_utc') ~ ' - ' ~ epoch_ms('deposit_time_utc'), 1000
        ) }} as string) || ' s' as rule
    from qualifying
    where
        deposit_usd >= min_deposit_usd
        and (
            within_days is null
            or {{ epoch_ms('deal_time_utc') }} - {{ epoch_ms('deposit_time_utc') }}
            <= within_days * 86400000
        )
        and amount_usd > 0
)

select * from final
