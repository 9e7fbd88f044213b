-- Every commission line (commissions.md §5): each level-1 amount split by its plan's split
-- among the level-1 partner and its uplines in force at the line's time. A chain shorter than
-- the split leaves the rest unpaid; a longer one pays nobody above it; an upline is paid
-- whether or not it has a plan. Amounts are exact; a zero share makes no line (rule 1).
-- Incremental on DuckDB (see the YAML): a build recomputes the deal lines of the trade dates
-- whose deals changed, the per_lot lines of the partner-months whose tier changed, the cpa
-- lines of the clients whose cpa int_commission_cpa recomputed (commission_cpa_recomputed) and
-- every revshare line; the pre-hook deletes exactly those lines first. On Spark a table,
-- built whole at every build (the YAML says why).
-- depends_on: {{ ref('int_commission_cpa_clients') }}
-- After int_commission_client_days too, which nothing here reads: the lines' post-hook writes
-- the record that says which dates are built, so if the client days fail, the lines do not
-- run and the dates stay marked for the next build (they would be lost otherwise).
-- depends_on: {{ ref('int_commission_client_days') }}
{{ config(
    materialized=commission_lines_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_commission_lines(
        ref('int_commission_changes'), 'cast(lines.line_time as date)',
        timestamp='lines.line_time', cpa_by_client=true,
    ) }}",
    post_hook="{{ record_commission_inputs(
        'fct_commission_lines_inputs', ref('int_commission_fingerprints')
    ) }}",
) }}

{%- set line_columns = [
    'component', 'source', 'l1_partner_id', 'plan_id', 'period', 'line_time', 'client_id',
    'symbol_group', 'rule', 'rate', 'base', 'l1_amount', 'server', 'ticket', 'login',
    'position_id', 'entry', 'deposit_ticket', 'deposit_time_utc', '_source_file', '_batch_id',
    '_row_number',
] %}

with

changes as (
    select * from {{ ref('int_commission_changes') }}
),

deal_lines as (
    select candidate.* from {{ ref('int_commission_deal_lines') }} as candidate
    {% if is_incremental() %}
        where {{ commission_changes_in(
            'candidate.trade_date', ref('int_commission_changes'), 'day', 'trade_date'
        ) }}
    {% endif %}
),

{% if is_incremental() %}
    -- per_lot lines of the other days of a partner-month whose tier changed (retroactive)
    rerated_lines as (
        select candidate.* from {{ ref('int_commission_deal_lines') }} as candidate
        where
            candidate.component = 'per_lot'
            and {{ commission_changes_in(
                'candidate.period', ref('int_commission_changes'), 'tier', 'period'
            ) }}
            and not {{ commission_changes_in(
                'candidate.trade_date', ref('int_commission_changes'), 'day', 'trade_date'
            ) }}
            and exists (
                select 1 from changes
                where
                    changes.kind = 'tier'
                    and changes.l1_partner_id = candidate.l1_partner_id
                    and changes.period = candidate.period
            )
    ),
{% endif %}

l1_lines as (
    select {{ line_columns | join(', ') }} from deal_lines
    {% if is_incremental() %}
        union all
        select {{ line_columns | join(', ') }} from rerated_lines
    {% endif %}
    union all
    select {{ line_columns | join(', ') }} from {{ ref('int_commission_cpa') }}
    {% if is_incremental() %}
        where {{ commission_cpa_recomputed('client_id') }}
    {% endif %}
    union all
    select {{ line_columns | join(', ') }} from {{ ref('int_commission_revshare') }}
),

splits as (
    select
        plan_id,
        level,
        split_pct,
        {{ times('split_pct', '0.01') }} as split_fraction
    from {{ ref('int_commission_plan_splits') }}
    where split_pct > 0
),

-- the chains in the lines' own time type, converted once per chain rather than per line
uplines as (
    select
        partner_id,
        level,
        upline_id,
        cast(valid_from as timestamp) as valid_from,
        cast(valid_to as timestamp) as valid_to
    from {{ ref('int_commission_uplines') }}
),

split as (
    select
        l1_lines.*,
        uplines.upline_id as partner_id,
        splits.level,
        splits.split_pct,
        splits.split_fraction
    from l1_lines
    inner join splits
        on l1_lines.plan_id = splits.plan_id
    inner join uplines
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
        {{ times('l1_amount', 'split_fraction') }} as amount,
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
)

select * from final
