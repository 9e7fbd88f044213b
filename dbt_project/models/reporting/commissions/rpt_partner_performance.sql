-- One row per partner and month it or a sub-partner had a trade, a deposit or a withdrawal, or a
-- payout row: its own clients, active traders, lots, net deposits and commissions earned, and the
-- same over its whole tree (itself and every sub-partner below it, at any depth) for the partner
-- manager's tree view.
with

partners as (
    select
        partner_id,
        name as partner_name,
        parent_id as parent_partner_id,
        level
    from {{ ref('int_crm__partners') }}
    where is_current
),

-- every partner with each partner above it, itself included: (ancestor, member of its tree);
-- the recursion is nested so the model keeps a plain top-level WITH (dbt's unit tests add to it)
tree as (
    with recursive below (ancestor_id, partner_id) as (
        select
            partner_id as ancestor_id,
            partner_id
        from partners
        union all
        select
            below.ancestor_id,
            partners.partner_id
        from below
        inner join partners on below.partner_id = partners.parent_partner_id
    )

    select * from below
),

links as (
    select
        client_id,
        partner_id,
        effective_from,
        effective_to
    from {{ ref('int_crm__partner_mappings') }}
    where is_current and partner_id is not null
),

accounts as (
    select distinct
        server,
        login,
        client_id,
        currency
    from {{ ref('int_crm__trading_accounts') }}
    where is_current and login is not null
),

-- the lots of each account's trading day (summed first: every later step is per day, not per deal)
account_days as (
    select
        server,
        login,
        trade_date,
        sum(lots) as lots
    from {{ ref('fct_deals') }}
    group by server, login, trade_date
),

-- a client's activity belongs to the partner whose link was in force that day
client_deals as (
    select
        links.partner_id,
        accounts.client_id,
        {{ format_time('deals.trade_date', '%Y-%m') }} as period,
        sum(deals.lots) as lots
    from account_days as deals
    inner join accounts
        on deals.server = accounts.server and deals.login = accounts.login
    inner join links
        on
            accounts.client_id = links.client_id
            and deals.trade_date >= links.effective_from
            and (links.effective_to is null or deals.trade_date < links.effective_to)
    group by links.partner_id, accounts.client_id, {{ format_time('deals.trade_date', '%Y-%m') }}
),

-- money in and out as the platform booked it (balance operations, not credit or bonus)
balance_operations as (
    select
        ops.server,
        ops.operation_ticket,
        accounts.client_id,
        accounts.currency,
        ops.amount,
        cast(ops.operation_time_utc as date) as operation_date
    from {{ ref('int_platform__balance_operations') }} as ops
    inner join accounts
        on ops.server = accounts.server and ops.login = accounts.login
    where ops.kind in ('deposit', 'withdrawal') and ops.operation_time_utc is not null
),

-- each operation with the date of the latest rate on or before its day (as fct_deals converts)
operation_rate_dates as (
    select
        balance_operations.server,
        balance_operations.operation_ticket,
        max(rates.rate_date) as rate_date
    from balance_operations
    inner join {{ ref('stg_market__fx_rates') }} as rates
        on
            balance_operations.currency = rates.currency
            and balance_operations.operation_date >= rates.rate_date
    group by balance_operations.server, balance_operations.operation_ticket
),

client_payments as (
    select
        links.partner_id,
        ops.client_id,
        {{ format_time('ops.operation_date', '%Y-%m') }} as period,
        -- 19 x 18 digits: an exact product on both engines (18 x 18 overflows DuckDB past 10^8)
        cast(ops.amount as decimal(19, 2)) * cast(rates.usd_per_unit as decimal(18, 8))
            as net_deposit_usd
    from balance_operations as ops
    inner join operation_rate_dates
        on
            ops.server = operation_rate_dates.server
            and ops.operation_ticket = operation_rate_dates.operation_ticket
    inner join {{ ref('stg_market__fx_rates') }} as rates
        on
            ops.currency = rates.currency
            and operation_rate_dates.rate_date = rates.rate_date
    inner join links
        on
            ops.client_id = links.client_id
            and ops.operation_date >= links.effective_from
            and (links.effective_to is null or ops.operation_date < links.effective_to)
),

client_month_payments as (
    select
        partner_id,
        client_id,
        period,
        sum(net_deposit_usd) as net_deposit_usd
    from client_payments
    group by partner_id, client_id, period
),

-- what the partner earned that month, as its payout row has it (frozen once approved)
commissions as (
    select
        partner_id,
        period,
        earned as commissions_usd
    from {{ ref('rpt_commission_payouts') }}
),

months as (
    select distinct period from client_deals
    union
    select distinct period from client_payments
    union
    select distinct period from commissions
),

-- a client counts for a month when linked to the partner on any day of it
client_months as (
    select distinct
        links.partner_id,
        links.client_id,
        months.period
    from links
    inner join months
        on
            links.effective_from < {{ add_months("cast(months.period || '-01' as date)", '1') }}
            and (
                links.effective_to is null
                or links.effective_to > cast(months.period || '-01' as date)
            )
),

activity as (
    select
        partner_id,
        client_id,
        period,
        true as is_client,
        false as traded,
        0 as lots,
        0 as net_deposit_usd,
        0 as commissions_usd
    from client_months
    union all
    select
        partner_id,
        client_id,
        period,
        false as is_client,
        true as traded,
        lots,
        0 as net_deposit_usd,
        0 as commissions_usd
    from client_deals
    union all
    select
        partner_id,
        client_id,
        period,
        false as is_client,
        false as traded,
        0 as lots,
        net_deposit_usd,
        0 as commissions_usd
    from client_month_payments
    union all
    select
        partner_id,
        null as client_id,
        period,
        false as is_client,
        false as traded,
        0 as lots,
        0 as net_deposit_usd,
        commissions_usd
    from commissions
),

own as (
    select
        partner_id,
        period,
        cast(sum(net_deposit_usd) as decimal(18, 2)) as net_deposits_usd,
        cast(sum(commissions_usd) as decimal(18, 2)) as commissions_usd,
        cast(sum(lots) as decimal(18, 2)) as lots,
        count(distinct case when is_client then client_id end) as clients,
        count(distinct case when traded then client_id end) as active_traders
    from activity
    group by partner_id, period
),

whole_tree as (
    select
        tree.ancestor_id as partner_id,
        activity.period,
        cast(sum(activity.net_deposit_usd) as decimal(18, 2)) as tree_net_deposits_usd,
        cast(sum(activity.commissions_usd) as decimal(18, 2)) as tree_commissions_usd,
        cast(sum(activity.lots) as decimal(18, 2)) as tree_lots,
        count(distinct case when activity.is_client then activity.client_id end) as tree_clients,
        count(distinct case when activity.traded then activity.client_id end)
            as tree_active_traders
    from activity
    inner join tree on activity.partner_id = tree.partner_id
    group by tree.ancestor_id, activity.period
)

select
    partners.partner_id,
    partners.partner_name,
    partners.parent_partner_id,
    partners.level,
    whole_tree.period,
    whole_tree.tree_clients,
    whole_tree.tree_active_traders,
    whole_tree.tree_lots,
    whole_tree.tree_net_deposits_usd,
    whole_tree.tree_commissions_usd,
    coalesce(own.clients, 0) as clients,
    coalesce(own.active_traders, 0) as active_traders,
    coalesce(own.lots, 0) as lots,
    coalesce(own.net_deposits_usd, 0) as net_deposits_usd,
    coalesce(own.commissions_usd, 0) as commissions_usd
from whole_tree
inner join partners on whole_tree.partner_id = partners.partner_id
left join own
    on whole_tree.partner_id = own.partner_id and whole_tree.period = own.period
