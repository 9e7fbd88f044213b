-- Every commission line (commissions.md §5): each level-1 amount split by its plan's split
-- among the level-1 partner and its uplines in force at the line's time. A chain shorter than
-- the split leaves the rest unpaid; a longer one pays nobody above it; an upline is paid
-- whether or not it has a plan. Amounts are exact; a zero share makes no line (rule 1).
with

l1_lines as (
    select * from {{ ref('int_commission_deal_lines') }}
    union all by name
    select * from {{ ref('int_commission_cpa') }}
    union all by name
    select * from {{ ref('int_commission_revshare') }}
),

split as (
    select
        l1_lines.*,
        uplines.upline_id as partner_id,
        splits.level,
        splits.split_pct
    from l1_lines
    inner join {{ ref('int_commission_plan_splits') }} as splits
        on l1_lines.plan_id = splits.plan_id
    inner join {{ ref('int_commission_uplines') }} as uplines
        on
            l1_lines.l1_partner_id = uplines.partner_id
            and splits.level = uplines.level
            and l1_lines.line_time >= uplines.valid_from
            and (uplines.valid_to is null or l1_lines.line_time < uplines.valid_to)
),

final as (
    select
        md5(concat_ws(
            '|', source, component, level, l1_partner_id, period, server, ticket, client_id
        )) as line_id,
        partner_id,
        level,
        l1_partner_id,
        plan_id,
        component,
        rule,
        symbol_group,
        rate,
        base,
        l1_amount,
        split_pct,
        {{ percent_of('split_pct', 'l1_amount') }} as amount,
        period,
        line_time,
        client_id,
        source,
        server,
        ticket,
        login,
        position_id,
        entry,
        deposit_ticket,
        deposit_time_utc,
        _source_file,
        _batch_id,
        _row_number
    from split
    where split_pct > 0
)

select * from final
