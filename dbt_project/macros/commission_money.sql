{#-
    a x b for commission amounts, kept at 12 decimals (commissions.md §5: lines are not
    rounded; lots, rates, percents and money carry at most 12 decimals, so the product is
    exact before that cut). `a` is the large factor (money, lots, a percent: under 10^9) and `b`
    the small one (a rate per lot, a USD rate, a fraction: under 10^4), both read at 12
    decimals. The widths are what keeps the product exact on both engines: DuckDB types a
    product with the sum of its factors' precisions and scales, so two DECIMAL(18, s) overflow
    past 10^(18-2s); Spark adds one digit to the sum and, above 38, cuts the scale to 6. Here
    21 + 16 (+ 1) digits: DECIMAL(37 or 38, 24) on both. A factor too large stops DuckDB's
    build (a cast overflow) and is null on Spark, which the not_null tests on the lines name.
-#}
{% macro times(a, b) -%}
    cast({{ exact_product(a, b) }} as decimal(38, 12))
{%- endmacro %}

{#-
    a x b before it is kept at 12 decimals (DECIMAL(38, 24)). Cutting a 38-digit decimal to
    fewer decimals is DuckDB's slow path (microseconds a value), so a filter asks this instead:
    `is_nonzero_at_12(a, b)` is times(a, b) != 0 without the cut (rounding half away from
    zero leaves a product non-zero exactly when it is at least half the 12th decimal).
-#}
{% macro exact_product(a, b) -%}
    (cast({{ a }} as decimal(21, 12)) * cast({{ b }} as decimal(16, 12)))
{%- endmacro %}

{% macro is_nonzero_at_12(a, b) -%}
    abs({{ exact_product(a, b) }}) >= 0.0000000000005
{%- endmacro %}

{#- pct percent of x (x the large factor, the fraction pct/100 the small one). -#}
{% macro percent_of(pct, x) -%}
    {{ times(x, times(pct, '0.01')) }}
{%- endmacro %}

{#-
    fct_commission_lines' incremental build (its YAML says why this way). Before the new lines
    are appended, delete the lines they replace: every cpa and revshare line, the deal lines of
    the changed trade dates, the per_lot lines of the partner-months whose tier changed, and
    everything when int_commission_changes says so.
-#}
{% macro delete_changed_commission_lines() -%}
    {%- if is_incremental() %}
        {%- set changes = ref('int_commission_changes') %}
        delete from {{ this }}
        where
            source in ('cpa', 'revshare')
            or exists (select 1 from {{ changes }} where kind = 'everything');
        delete from {{ this }} as lines
        using {{ changes }} as changes
        where
            changes.kind = 'day'
            and lines.source = 'deal'
            and cast(lines.line_time as date) = changes.trade_date;
        delete from {{ this }} as lines
        using {{ changes }} as changes
        where
            changes.kind = 'tier'
            and lines.component = 'per_lot'
            and lines.l1_partner_id = changes.l1_partner_id
            and lines.period = changes.period
    {%- endif %}
{%- endmacro %}

{#-
    The fingerprints fct_commission_lines was last built from (written by its post-hook), or
    none before its first build.
-#}
{% macro commission_lines_built_from() -%}
    {%- set built = adapter.get_relation(
        database=this.database, schema='marts', identifier='fct_commission_lines_inputs'
    ) -%}
    {%- if built -%}
        select * from {{ built }}
    {%- else -%}
        select
            cast(null as string) as kind,
            cast(null as date) as trade_date,
            cast(null as string) as l1_partner_id,
            cast(null as string) as period,
            cast(null as string) as fingerprint
        from (select 1 as one) as nothing
        where false
    {%- endif -%}
{%- endmacro %}

{#-
    After the lines: what they were built from, for the next build to compare with. Only the
    incremental build (DuckDB) reads it; on Spark the lines are a table built whole, and a
    parquet table cannot be replaced in place, so nothing is recorded there.
-#}
{% macro record_commission_line_inputs() -%}
    {%- if target.type != 'spark' %}
        create or replace table {{ this.schema }}.fct_commission_lines_inputs as
        select * from {{ ref('int_commission_fingerprints') }}
    {%- endif %}
{%- endmacro %}

{#-
    The materialization of fct_commission_lines and of the two deal tables it is computed from
    (int_commission_deals, int_commission_eligible_deals): incremental on DuckDB, a table built
    whole on Spark, which cannot delete from its parquet tables (fct_commission_lines' YAML
    says why not insert_overwrite).
-#}
{% macro commission_lines_materialization() -%}
    {{ return('table' if target.type == 'spark' else 'incremental') }}
{%- endmacro %}

{#-
    The deal's own columns every level-1 deal line carries (int_commission_deal_lines: one list
    for its per_lot, spread_share and commission_share lines), optionally qualified by `alias`.
-#}
{% macro commission_deal_columns(alias=none) -%}
    {%- set columns = [
        'l1_partner_id', 'plan_id', 'period', 'deal_time_utc', 'client_id', 'symbol_group',
        'server', 'ticket', 'login', 'position_id', 'entry', '_source_file', '_batch_id',
        '_row_number', 'trade_date',
    ] -%}
    {%- set prefix = alias ~ '.' if alias else '' -%}
    {{ prefix ~ columns | join(',\n' ~ prefix) }}
{%- endmacro %}

{#-
    True for a deal of a trade date the incremental deal tables recompute
    (int_commission_changed_days: its fingerprint changed, or everything is recomputed).
-#}
{% macro commission_day_changed(trade_date) -%}
    {{ commission_changes_in(trade_date, ref('int_commission_changed_days'), 'day', 'trade_date') }}
{%- endmacro %}

{#-
    `expression` in the `field` values of the `kind` rows of `changes` (int_commission_changed_days
    or int_commission_changes), true when it has an `everything` row. The values are read when
    the model runs (dbt compiles a model just before running it, after `changes` is built) and
    written out, so DuckDB skips by its zone maps the parts of the deal tables whose trade dates
    or months did not change: as a subquery, the filter read every deal (a daily increment at
    10M deals spent 19 s of its 41 s computing every deal line to keep one day's).
-#}
{% macro commission_changes_in(expression, changes, kind, field) -%}
    {#- none in a unit test, whose `changes` is its own fixture: the subquery reads that -#}
    {%- set relation = adapter.get_relation(
        database=changes.database, schema=changes.schema, identifier=changes.identifier
    ) if execute and changes.schema else none -%}
    {%- if relation is none -%}
        (
            {{ expression }} in (select changed.{{ field }} from {{ changes }} as changed where changed.kind = '{{ kind }}')
            or exists (select 1 from {{ changes }} as changed where changed.kind = 'everything')
        )
    {%- else -%}
        {%- set found = run_query(
            "select distinct kind, cast(" ~ field ~ " as varchar) as changed from " ~ relation
            ~ " where kind in ('" ~ kind ~ "', 'everything') order by kind, changed"
        ) -%}
        {%- set values = [] -%}
        {%- for row in found.rows if row[0] == kind and row[1] is not none -%}
            {%- do values.append("'" ~ row[1] ~ "'") -%}
        {%- endfor -%}
        {%- if 'everything' in found.columns[0].values() -%}
            true
        {%- elif values -%}
            {{ expression }} in ({{ values | join(', ') }})
        {%- else -%}
            false
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{#-
    The incremental deal tables' pre-hook: delete the rows of the trade dates about to be
    recomputed (every row when everything is).
-#}
{% macro delete_changed_commission_days() -%}
    {%- if is_incremental() %}
        delete from {{ this }} where {{ commission_day_changed('trade_date') }}
    {%- endif %}
{%- endmacro %}
