-- The floor for the commission benchmark: the commission lines of commissions.md, computed by
-- one hand-written DuckDB script straight from the inputs the dbt models read (the benchmark's
-- tables), with temp tables and ASOF joins, no layers, nothing incremental. The same lines as
-- marts.fct_commission_lines, every column (line id, rule in words, rate, base, the deal's or
-- deposit's lineage), written to a table in the warehouse as the model's are; the benchmark
-- checks both give the same lines. The partner tree does not change in the benchmark, so its
-- chains are taken once. Result: main.floor_lines.

create temp table terms as
select
    plan_id,
    coalesce(min_hold_seconds, 0) * 1000 as min_hold_ms,
    coalesce(from_json(exclude_symbol_groups, '["VARCHAR"]'), cast([] as varchar [])) as excluded,
    split,
    components
from intermediate.int_crm__commission_plans
where is_current;

create temp table comps as
select
    terms.plan_id,
    c.value ->> 'type' as component,
    cast(c.value ->> 'pct' as decimal(18, 8)) as pct,
    cast(c.value ->> 'cap_usd_per_lot' as decimal(18, 8)) as cap,
    cast(c.value ->> 'amount_usd' as decimal(18, 8)) as amount_usd,
    cast(coalesce(c.value ->> 'min_deposit_usd', '0') as decimal(18, 8)) as min_deposit,
    cast(coalesce(c.value ->> 'min_lots', '0') as decimal(18, 8)) as min_lots,
    cast(c.value ->> 'within_days' as decimal(18, 8)) as within_days,
    c.value as body
from terms, json_each(terms.components) as c;

create temp table rate_tables as
select plan_id, null::decimal(18, 8) as from_lots, r.key as grp, cast(r.value ->> '$' as decimal(18, 8)) as rate
from comps, json_each(comps.body -> 'rates') as r
where component = 'per_lot'
union all
select plan_id, cast(t.value ->> 'from_lots' as decimal(18, 8)), r.key, cast(r.value ->> '$' as decimal(18, 8))
from comps, json_each(comps.body -> 'tiers') as t, json_each(t.value -> 'rates') as r
where component = 'per_lot';

create temp table splits as
select plan_id, cast(s.key as integer) + 1 as level, cast(s.value ->> '$' as decimal(9, 4)) as pct
from terms, json_each(coalesce(terms.split, '[100]')) as s;

create temp table chains as
with recursive chain as (
    select partner_id, 1 as level, partner_id as upline, parent_id as next_id
    from intermediate.int_crm__partners where is_current
    union all
    select chain.partner_id, chain.level + 1, p.partner_id, p.parent_id
    from chain join intermediate.int_crm__partners as p on p.is_current and p.partner_id = chain.next_id
)
select partner_id, level, upline from chain;

create temp table accounts as
select server, login, client_id, currency, coalesce(commission_excluded, false) as excluded
from intermediate.int_crm__trading_accounts
where is_current;

create temp table links as
select client_id, partner_id, effective_from as l_from,
    lead(effective_from) over (partition by client_id order by effective_from) as l_to
from intermediate.int_crm__partner_mappings
where is_current;

create temp table pplans as
select partner_id, plan_id, effective_from as p_from,
    lead(effective_from) over (partition by partner_id order by effective_from) as p_to
from intermediate.int_crm__partner_plans
where is_current;

create temp table deals as
with d as (
    select *
    from intermediate.int_deals__symbol_mapped
    where deal_time_utc is not null
),
opened as (
    select server, login, position_id, min(deal_time_utc) as opened_at
    from d where entry_name = 'in' group by all
)
select
    d.server, d.deal_ticket as ticket, d.login, d.position_id, d.entry_name as entry,
    d.deal_time_utc as t, cast(d.deal_time_utc as date) as day,
    date_trunc('month', d.deal_time_utc) as month_start, strftime(d.deal_time_utc, '%Y-%m') as period,
    coalesce(d.symbol_group, 'unmapped') as grp, d.lots,
    d.entry_name in ('out', 'out_by') as closing,
    epoch_ms(d.deal_time_utc) - epoch_ms(opened.opened_at) as hold_ms,
    d.commission, d.profit + d.swap + d.commission + d.fee as pnl,
    d._source_file, d._batch_id, d._row_number,
    a.client_id, a.currency, a.excluded
from d
join accounts as a on d.server = a.server and d.login = a.login
left join opened on d.server = opened.server and d.login = opened.login and d.position_id = opened.position_id;

create temp table usd as
select deals.*, case when deals.currency = 'USD' then 1 else r.usd_per_unit end as usd_rate
from deals asof left join staging.stg_market__fx_rates as r
    on deals.currency = r.currency and deals.day >= r.rate_date;

create temp table eligible as
select
    usd.*, links.partner_id as l1, pplans.plan_id, terms.min_hold_ms,
    usd.closing and (usd.hold_ms is null or usd.hold_ms >= terms.min_hold_ms) as earns,
    cast(cast(usd.commission as decimal(38, 12)) * cast(usd_rate as decimal(38, 12)) as decimal(38, 12)) as commission_usd,
    cast(cast(usd.pnl as decimal(38, 12)) * cast(usd_rate as decimal(38, 12)) as decimal(38, 12)) as pnl_usd
from usd
join links on usd.client_id = links.client_id and links.l_from <= usd.t and (links.l_to is null or usd.t < links.l_to)
join pplans on links.partner_id = pplans.partner_id and pplans.p_from <= usd.month_start
    and (pplans.p_to is null or usd.month_start < pplans.p_to)
join terms on pplans.plan_id = terms.plan_id
where not usd.excluded and not list_contains(terms.excluded, usd.grp);

create temp table l1 as
with per_lot as (
    select e.*, sum(lots) over (partition by l1, period) as month_lots
    from eligible as e semi join comps on comps.plan_id = e.plan_id and comps.component = 'per_lot'
    where earns
),
tier as (
    select l1, period, max(rt.from_lots) as from_lots
    from (select distinct l1, period, plan_id, month_lots from per_lot) as m
    join rate_tables as rt on rt.plan_id = m.plan_id and rt.from_lots <= m.month_lots
    group by all
),
rated as (
    select per_lot.*, tier.from_lots, coalesce(named.rate, dflt.rate) as rate,
        coalesce(named.grp, dflt.grp) as rate_grp
    from per_lot
    left join tier using (l1, period)
    left join rate_tables as named on named.plan_id = per_lot.plan_id
        and named.from_lots is not distinct from tier.from_lots and named.grp = per_lot.grp
    left join rate_tables as dflt on dflt.plan_id = per_lot.plan_id
        and dflt.from_lots is not distinct from tier.from_lots and dflt.grp = 'default'
),
nets as (
    select l1, period, month_start, e.plan_id, comps.pct, cast(sum(-pnl_usd) as decimal(28, 12)) as net
    from eligible as e join comps on comps.plan_id = e.plan_id and comps.component = 'revshare'
    group by all
),
running as (
    select *, sum(net) over w as so_far
    from nets window w as (partition by l1 order by period rows unbounded preceding)
),
carry as (
    select *, so_far - greatest(0, max(so_far) over w) as after
    from running window w as (partition by l1 order by period rows unbounded preceding)
),
revshare as (
    select *, cast(net + coalesce(lag(after) over (partition by l1 order by period), 0) as decimal(28, 12)) as base
    from carry
),
first_deposit as (
    select a.client_id, o.operation_ticket as dep_ticket, o.operation_time_utc as dep_t,
        cast(o.amount * case when a.currency = 'USD' then 1 else r.usd_per_unit end as decimal(38, 12)) as dep_usd
    from intermediate.int_platform__balance_operations as o
    join accounts as a on o.server = a.server and o.login = a.login and not a.excluded
    asof left join staging.stg_market__fx_rates as r
        on a.currency = r.currency and cast(o.operation_time_utc as date) >= r.rate_date
    where o.operation = 'balance' and o.amount > 0
    qualify row_number() over (partition by a.client_id order by o.operation_time_utc, o.operation_ticket) = 1
),
cpa_partner as (
    select f.*, links.partner_id as l1
    from first_deposit as f
    join links on f.client_id = links.client_id and links.l_from <= f.dep_t and (links.l_to is null or f.dep_t < links.l_to)
    where links.partner_id is not null
),
qualifying as (
    select c.*, d.t, d.period, d.server, d.ticket, d.login, d.position_id, d.entry,
        d._source_file, d._batch_id, d._row_number,
        pplans.plan_id, comps.amount_usd, comps.min_deposit, comps.within_days,
        sum(d.lots) over (partition by d.client_id order by d.t, d.server, d.ticket rows unbounded preceding) as lots_so_far,
        comps.min_lots
    from cpa_partner as c
    join deals as d on d.client_id = c.client_id and d.t >= c.dep_t and d.closing and not d.excluded
    left join pplans on c.l1 = pplans.partner_id and pplans.p_from <= d.month_start
        and (pplans.p_to is null or d.month_start < pplans.p_to)
    left join comps on comps.plan_id = pplans.plan_id and comps.component = 'cpa'
),
cpa as (
    select * from qualifying
    where amount_usd is not null and lots_so_far >= min_lots
    qualify row_number() over (partition by client_id order by t, server, ticket) = 1
)
select 'per_lot' as component, 'deal' as source, l1, plan_id, period, t as line_time, client_id, grp,
    rate_grp || ' rate of ' || coalesce('the tier from ' || cast(cast(from_lots as decimal(38, 8)) as varchar) || ' lots', 'the plan''s rates')
        || '; hold ' || coalesce(cast(hold_ms // 1000 as varchar) || ' s', 'unknown') as rule,
    cast(rate as decimal(38, 12)) as rate, cast(lots as decimal(38, 12)) as base,
    cast(cast(lots as decimal(38, 12)) * cast(rate as decimal(38, 12)) as decimal(38, 12)) as amount,
    server, ticket, login, position_id, entry, null::bigint as dep_ticket, null::timestamp as dep_t,
    _source_file, _batch_id, _row_number
from rated where rate is not null
union all
select 'spread_share', 'deal', e.l1, e.plan_id, e.period, e.t, e.client_id, e.grp,
    cast(cast(comps.pct as decimal(38, 8)) as varchar) || '% of the ' || e.grp || ' markup '
        || cast(cast(m.usd_per_lot as decimal(38, 8)) as varchar) || ' USD/lot'
        || coalesce(', capped at ' || cast(cast(comps.cap as decimal(38, 8)) as varchar), ''),
    least(cast(comps.pct * 0.01 as decimal(38, 12)) * m.usd_per_lot, coalesce(comps.cap, 1e9)),
    e.lots,
    cast(cast(e.lots as decimal(38, 12)) * cast(least(cast(comps.pct * 0.01 as decimal(38, 12)) * m.usd_per_lot, coalesce(comps.cap, 1e9)) as decimal(38, 12)) as decimal(38, 12)),
    e.server, e.ticket, e.login, e.position_id, e.entry, null, null, e._source_file, e._batch_id, e._row_number
from eligible as e
join comps on comps.plan_id = e.plan_id and comps.component = 'spread_share'
join intermediate.int_crm__spread_markups as m on m.is_current and m.symbol_group = e.grp
where e.earns
union all
select 'commission_share', 'deal', e.l1, e.plan_id, e.period, e.t, e.client_id, e.grp,
    cast(cast(comps.pct as decimal(38, 8)) as varchar) || '% of the commission paid',
    comps.pct, -e.commission_usd,
    cast(cast(comps.pct * 0.01 as decimal(38, 12)) * -e.commission_usd as decimal(38, 12)),
    e.server, e.ticket, e.login, e.position_id, e.entry, null, null, e._source_file, e._batch_id, e._row_number
from eligible as e join comps on comps.plan_id = e.plan_id and comps.component = 'commission_share'
union all
select 'revshare', 'revshare', l1, plan_id, period, month_start + interval 1 month - interval 1 millisecond, null, null,
    cast(cast(pct as decimal(38, 8)) as varchar) || '% of net ' || cast(cast(net as decimal(38, 12)) as varchar)
        || ' + carried ' || cast(cast(base - net as decimal(38, 12)) as varchar),
    pct, base, cast(cast(pct * 0.01 as decimal(38, 12)) * base as decimal(38, 12)),
    null, null, null, null, null, null, null, null, null, null
from revshare
where base > 0 and pct > 0
union all
select 'cpa', 'cpa', l1, plan_id, period, t, client_id, null,
    'first deposit ' || cast(dep_usd as varchar) || ' USD (min ' || cast(cast(min_deposit as decimal(38, 8)) as varchar) || '), '
        || cast(cast(lots_so_far as decimal(38, 8)) as varchar) || ' lots (min ' || cast(cast(min_lots as decimal(38, 8)) as varchar)
        || ') after ' || cast((epoch_ms(t) - epoch_ms(dep_t)) // 1000 as varchar) || ' s',
    amount_usd, dep_usd, amount_usd,
    server, ticket, login, position_id, entry, dep_ticket, dep_t, _source_file, _batch_id, _row_number
from cpa
where dep_usd >= min_deposit and (within_days is null or epoch_ms(t) - epoch_ms(dep_t) <= within_days * 86400000)
    and amount_usd > 0;

create or replace table main.floor_lines as
select
    md5(concat_ws('|', l1.source, l1.component, splits.level, l1.l1, l1.period, l1.server, l1.ticket, l1.client_id)) as line_id,
    chains.upline as partner_id, splits.level, l1.l1 as l1_partner_id, l1.plan_id, l1.component, l1.rule,
    l1.grp as symbol_group, l1.rate, l1.base, l1.amount as l1_amount, splits.pct as split_pct,
    cast(cast(splits.pct * 0.01 as decimal(38, 12)) * l1.amount as decimal(38, 12)) as amount,
    l1.period, l1.line_time, l1.client_id, l1.source, l1.server, l1.ticket, l1.login, l1.position_id,
    l1.entry, l1.dep_ticket as deposit_ticket, l1.dep_t as deposit_time_utc,
    l1._source_file, l1._batch_id, l1._row_number
from l1
join splits on splits.plan_id = l1.plan_id and splits.pct > 0
join chains on chains.partner_id = l1.l1 and chains.level = splits.level
where l1.amount != 0;
