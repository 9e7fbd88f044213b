{#-
    a x b for commission amounts. DuckDB types a product with the sum of its factors' scales
    within their precision, so two DECIMAL(18, 8) overflow past 100; both factors are widened to
    38 digits first. Lots, rates, percents and money carry at most 12 decimals in practice, so
    the product kept at 12 decimals is exact (commissions.md §5: lines are not rounded).
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
    (cast({{ a }} as decimal(38, 12)) * cast({{ b }} as decimal(38, 12)))
{%- endmacro %}

{% macro is_nonzero_at_12(a, b) -%}
    abs({{ exact_product(a, b) }}) >= 0.0000000000005
{%- endmacro %}

{#- pct percent of x. -#}
{% macro percent_of(pct, x) -%}
    {{ times(times(pct, '0.01'), x) }}
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
        select * from {{ ref('int_commission_fingerprints') }}
        where false
    {%- endif -%}
{%- endmacro %}

{#- After the lines: what they were built from, for the next build to compare with. -#}
{% macro record_commission_line_inputs() -%}
    create or replace table {{ this.schema }}.fct_commission_lines_inputs as
    select * from {{ ref('int_commission_fingerprints') }}
{%- endmacro %}
