-- cpa (commissions.md §4, rule 6): once per client, to the partner linked at the client's first
-- deposit (its earliest positive balance operation on a known, non-excluded account). The
-- client qualifies at the first closing deal (any group, hold or partner, on its known,
-- non-excluded accounts, at or after the deposit) at which its lots since the deposit reach
-- the min_lots of the cpa component of that partner's plan for the deal's month; a month
-- whose plan has no cpa cannot qualify. The deposit threshold (in USD at the deposit day's
-- rate) and the window (within_days x 24 h, inclusive) are tested with the same component;
-- if either fails there is no CPA, ever.
with

accounts as (
    select
        server,
        login,
        client_id,
        currency
    from {{ ref('int_crm__trading_accounts') }}
    where is_current and login is not null and not coalesce(commission_excluded, false)
),

deposits as (
    select
        operations.server,
        operations.operation_ticket,
        operations.operation_time_utc,
        operations.amount,
        accounts.client_id,
        accounts.currency,
        row_number() over (
            partition by accounts.client_id
            order by operations.operation_time_utc, operations.operation_ticket
        ) as nth
    from {{ ref('int_platform__balance_operations') }} as operations
    inner join accounts
        on operations.server = accounts.server and operations.login = accounts.login
    where
        operations.operation = 'balance'
        and operations.amount > 0
        and operations.operation_time_utc is not null
),

rates as (
    select * from {{ ref('stg_market__fx_rates') }}
),

-- each first deposit's rate date: the latest on or before its UTC date (null: no rate)
deposit_rate_dates as (
    select
        deposits.client_id,
        max(rates.rate_date) as rate_date
    from deposits
    inner join rates
        on
            deposits.currency = rates.currency
            and cast(deposits.operation_time_utc as date) >= rates.rate_date
    where deposits.nth = 1
    group by deposits.client_id
),

first_deposits as (
    select
        deposits.client_id,
        deposits.server as deposit_server,
        deposits.operation_ticket as deposit_ticket,
        deposits.operation_time_utc as deposit_time_utc,
        {{ times('deposits.amount', """case
                when deposits.currency = 'USD' then 1
                when rates.usd_per_unit is null
                    then """ ~ raise_error(
                        "'commissions: no USD rate for ' || deposits.currency
                        || ' on or before '
                        || cast(cast(deposits.operation_time_utc as date) as string)"
                    ) ~ """
                else rates.usd_per_unit
            end""") }} as deposit_usd,
        links.partner_id as cpa_partner_id
    from deposits
    left join deposit_rate_dates on deposits.client_id = deposit_rate_dates.client_id
    left join rates
        on
            deposits.currency = rates.currency
            and deposit_rate_dates.rate_date = rates.rate_date
    inner join {{ ref('int_commission_links') }} as links
        on
            deposits.client_id = links.client_id
            and deposits.operation_time_utc >= links.linked_from
            and (links.linked_to is null or deposits.operation_time_utc < links.linked_to)
    where deposits.nth = 1 and links.partner_id is not null
),

-- the longest qualifying window of any plan's cpa, in ms (null when one has none). A closing
-- deal later than that after the deposit can never qualify (the window is tested at the
-- qualifying deal, and the lots before it are the deals before it), so each client's deals
-- are read up to there: a month of them, not the client's whole history.
cpa_window as (
    select
        case
            when count(*) = count(within_days) then max(within_days) * 86400000
        end as window_ms
    from {{ ref('int_commission_plan_components') }}
    where component = 'cpa'
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
