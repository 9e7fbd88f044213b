-- revshare per level-1 partner and month (commissions.md §4, rule 7): net = the broker's
-- revenue from the partner's eligible deals, base = net + the carried negative. The carry
-- runs only through months whose plan has revshare; a month without deals changes nothing,
-- so the months with deals are enough. carried after a month = min(0, carried before + net),
-- which is the running sum of net less its running maximum (from 0): no recursion needed.
-- Only months that earn make a line; the line's time is the month's last instant. The eligible
-- deals are read summed by partner and day (int_commission_partner_days: exact, the same sums).
with

nets as (
    select
        deals.l1_partner_id,
        deals.period,
        deals.month_start,
        deals.plan_id,
        components.pct,
        cast(sum(-deals.client_pnl_usd) as decimal(28, 12)) as net
    from {{ ref('int_commission_partner_days') }} as deals
    inner join {{ ref('int_commission_plan_components') }} as components
        on deals.plan_id = components.plan_id and components.component = 'revshare'
    group by all
),

running as (
    select
        *,
        cast(sum(net) over months as decimal(28, 12)) as net_so_far
    from nets
    window months as (partition by l1_partner_id order by period rows unbounded preceding)
),

carried as (
    select
        *,
        net_so_far - greatest(cast(0 as decimal(28, 12)), max(net_so_far) over months)
            as carried_after
    from running
    window months as (partition by l1_partner_id order by period rows unbounded preceding)
),

bases as (
    select
        *,
        cast(net + coalesce(
            lag(carried_after) over (partition by l1_partner_id order by period),
            cast(0 as decimal(28, 12))
        ) as decimal(28, 12)) as base
    from carried
),

final as (
    select
        'revshare' as component,
        'revshare' as source,
        l1_partner_id,
        plan_id,
        period,
        month_start + interval 1 month - interval 1 millisecond as line_time,
        cast(null as string) as client_id,
        cast(null as string) as symbol_group,
        {{ decimal_text('pct', 8) }} || '% of net ' || {{ decimal_text('net', 12) }}
        || ' + carried '
        || {{ decimal_text('cast(base - net as decimal(28, 12))', 12) }} as rule,
        pct as rate,
        base,
        {{ percent_of('pct', 'base') }} as l1_amount,
        cast(null as string) as server,
        cast(null as bigint) as ticket,
        cast(null as bigint) as login,
        cast(null as bigint) as position_id,
        cast(null as string) as entry,
        cast(null as bigint) as deposit_ticket,
        cast(null as timestamp) as deposit_time_utc,
        cast(null as string) as _source_file,
        cast(null as string) as _batch_id,
        cast(null as bigint) as _row_number
    from bases
    where base > 0 and pct > 0
)

select * from final
