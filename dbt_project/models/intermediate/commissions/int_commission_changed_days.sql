-- The trade dates whose commission deals the incremental builds recompute: those whose
-- fingerprint changed since the lines were last built (int_commission_differing_days), the
-- dates of the closing deals whose hold those changes may move; and `everything` when nothing
-- was recorded. The post-hooks mark these dates in the records as being recomputed, so the
-- lines and their totals recompute them too (a date whose hold moved differs from the record
-- only that way), and a build stopped before the records are written again recomputes them
-- all next time.
{{ config(
    materialized='table',
    post_hook=[
        "{{ mark_changed_commission_days('fct_commission_lines_inputs') }}",
        "{{ mark_changed_commission_days('fct_commission_daily_totals_inputs') }}",
    ],
) }}

{%- set built_deals = commission_deals_as_built() %}

with

differing as (
    select * from {{ ref('int_commission_differing_days') }}
),

-- the changed dates, unless everything is recomputed anyway
changed as (
    select trade_date
    from differing
    where
        kind = 'day'
        and not exists (
            select 1 from differing as everything
            where everything.kind = 'everything'
        )
),

-- a closing deal's hold runs from its position's opening deal, which may be on another date:
-- the positions with an opening deal on a changed date, as the deals are now and as the deal
-- table was last built (where an opening deal since removed, or moved to another position, is
-- still found)
touched_positions as (
    select
        deals.server,
        deals.login,
        deals.position_id
    from {{ ref('int_deals__symbol_mapped') }} as deals
    inner join changed on cast(deals.deal_time_utc as date) = changed.trade_date
    where deals.entry_name = 'in'
    {%- if built_deals %}
        union
        select
            built_deals.server,
            built_deals.login,
            built_deals.position_id
        from {{ built_deals }} as built_deals
        inner join changed on built_deals.trade_date = changed.trade_date
        where built_deals.entry = 'in'
    {%- endif %}
),

-- the dates of those positions' closing deals
hold_days as (
    select distinct cast(deals.deal_time_utc as date) as trade_date
    from {{ ref('int_deals__symbol_mapped') }} as deals
    {{ semi_join() }} touched_positions as touched
        on
            deals.server = touched.server
            and deals.login = touched.login
            and deals.position_id = touched.position_id
    where deals.entry_name in ('out', 'out_by') and deals.deal_time_utc is not null
),

final as (
    select
        kind,
        trade_date
    from differing
    union
    select
        'day' as kind,
        trade_date
    from hold_days
    {% if not built_deals -%}
        -- no deal table as last built (the first build, Spark, or the table gone): everything
        union
        select
            'everything' as kind,
            cast(null as date) as trade_date
    {%- endif %}
)

select * from final
