-- The commission lines summed per partner, level, component, level-1 partner and trade date:
-- what the statements, their levels and the adjustments add up (some 10^5 rows at 10M deals,
-- not 23M lines). Exact sums: rounding to cents is the statements'. Incremental on DuckDB as
-- the lines are (the YAML says why): a build deletes and sums again only what the lines
-- recomputed, so a daily increment adds up one day, not every line. On Spark a table.
{{ config(
    materialized=commission_lines_materialization(),
    incremental_strategy='append',
    on_schema_change='fail',
    pre_hook="{{ delete_changed_commission_lines(
        ref('int_commission_total_changes'), 'lines.line_date'
    ) }}",
    post_hook="{{ record_commission_inputs(
        'fct_commission_daily_totals_inputs', this.schema ~ '.fct_commission_lines_inputs'
    ) }}",
) }}

{%- set changes = ref('int_commission_total_changes') %}
{%- set columns %}
        partner_id,
        level,
        component,
        source,
        l1_partner_id,
        period,
        cast(line_time as date) as line_date,
        amount
{%- endset %}

-- three reads, each with a filter DuckDB applies while scanning (a single OR of them read and
-- tested all 23M lines at 10M deals: 0.6 s, not 0.06)
with

lines as (
    select {{ columns }}
    from {{ ref('fct_commission_lines') }}
    {% if is_incremental() %}
        where source in ('cpa', 'revshare')
        union all
        -- the deal lines of the changed trade dates
        select {{ columns }}
        from {{ ref('fct_commission_lines') }}
        where
            source = 'deal'
            and {{ commission_changes_in(
                'cast(line_time as date)', changes, 'day', 'trade_date', timestamp='line_time'
            ) }}
        union all
        -- the per_lot lines of the other days of the re-rated partner-months
        select {{ columns }}
        from {{ ref('fct_commission_lines') }} as commission_lines
        where
            component = 'per_lot'
            and {{ commission_changes_in('period', changes, 'tier', 'period') }}
            and not {{ commission_changes_in(
                'cast(line_time as date)', changes, 'day', 'trade_date', timestamp='line_time'
            ) }}
            and exists (
                select 1 from {{ changes }} as changed
                where
                    changed.kind = 'tier'
                    and changed.l1_partner_id = commission_lines.l1_partner_id
                    and changed.period = commission_lines.period
            )
    {% endif %}
),

final as (
    select
        partner_id,
        level,
        component,
        source,
        l1_partner_id,
        period,
        line_date,
        sum(amount) as amount,
        count(*) as line_count
    from lines
    group by partner_id, level, component, source, l1_partner_id, period, line_date
)

select * from final
