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
    The incremental build of fct_commission_lines and of the totals summed from it
    (fct_commission_daily_totals), their YAML says why this way. Before the new rows are
    appended, delete the rows they replace: every revshare row; the cpa rows of the clients
    whose cpa is recomputed (commission_cpa_recomputed) when `cpa_by_client`, else every cpa
    row; the deal rows of the changed trade dates; the per_lot rows of the partner-months whose
    tier changed; and everything when `changes` (int_commission_changes or
    int_commission_total_changes) says so. `trade_date` is a row's trade date, as an
    expression on `lines`; `timestamp`, the row's time when `trade_date` is its date
    (commission_changes_in).
-#}
{% macro delete_changed_commission_lines(changes, trade_date, timestamp=none, cpa_by_client=false) -%}
    {#- One delete per kind of row, each with a plain filter on `source`: DuckDB skips by its
        zone maps the row groups of other sources. As one OR with the `everything` test it
        read every line (0.33 s of a daily increment at 10M deals; split, 0.01 s). -#}
    {%- if is_incremental() %}
        delete from {{ this }}
        where exists (select 1 from {{ changes }} where kind = 'everything');
        delete from {{ this }} where source = 'revshare';
        delete from {{ this }}
        where
            source = 'cpa'
            {%- if cpa_by_client %}
                and {{ commission_cpa_recomputed('client_id') }}
            {%- endif %};
        delete from {{ this }} as lines
        where
            lines.source = 'deal'
            and {{ commission_changes_in(
                trade_date, changes, 'day', 'trade_date', timestamp=timestamp
            ) }};
        delete from {{ this }} as lines
        using {{ changes }} as changes
        where
            changes.kind = 'tier'
            and {{ commission_changes_in('lines.period', changes, 'tier', 'period') }}
            and lines.component = 'per_lot'
            and lines.l1_partner_id = changes.l1_partner_id
            and lines.period = changes.period
    {%- endif %}
{%- endmacro %}

{#-
    True for a client whose cpa this build recomputes: named by int_commission_cpa_clients, or
    in a bucket whose first deposits changed (so a client whose deposit is gone, and with it
    its cpa, is found too), or every client when int_commission_changes says everything. The
    pre-hooks of int_commission_cpa and fct_commission_lines delete these clients' rows.
-#}
{% macro commission_cpa_recomputed(client_id) -%}
    (
        {{ client_id }} in (select client_id from {{ ref('int_commission_cpa_clients') }})
        or {{ commission_client_bucket(client_id) }} in (
            select changes.client_bucket from {{ ref('int_commission_changes') }} as changes
            where changes.kind = 'client'
        )
        or exists (
            select 1 from {{ ref('int_commission_changes') }} as changes
            where changes.kind = 'everything'
        )
    )
{%- endmacro %}

{#-
    What differs between two records of what the commission lines are computed from (rows of
    int_commission_fingerprints): `fingerprints`, what they are computed from now, and `built`,
    what a table was last built from (a relation or a parenthesised query). Rows: `day`, a
    trade date whose fingerprint differs (the deals it reads, their accounts, links, openings,
    rates and plan assignments), or is in one record only; `tier`, a level-1 partner-month whose
    plan or tier differs; `client`, a bucket of clients (commission_client_bucket) one of whose
    first deposits differs; `everything`, with all of them, when the terms every line reads
    differ or nothing was recorded.
-#}
{% macro commission_fingerprint_changes(fingerprints, built) -%}
    with

    fingerprints as (
        select * from {{ fingerprints }}
    ),

    built as (
        select * from {{ built }}
    ),

    -- one row when the terms changed or nothing was recorded (none when the terms are the same)
    everything as (
        select true as rebuild
        from (
            select count(*) as same_terms
            from fingerprints
            inner join built
                on fingerprints.kind = built.kind and fingerprints.fingerprint = built.fingerprint
            where fingerprints.kind = 'terms'
        ) as compared
        where compared.same_terms = 0
    ),

    differences as (
        select
            coalesce(fingerprints.kind, built.kind) as kind,
            coalesce(fingerprints.trade_date, built.trade_date) as trade_date,
            coalesce(fingerprints.l1_partner_id, built.l1_partner_id) as l1_partner_id,
            coalesce(fingerprints.period, built.period) as period,
            coalesce(fingerprints.client_bucket, built.client_bucket) as client_bucket
        from (select * from fingerprints where kind != 'terms') as fingerprints
        full outer join (select * from built where kind != 'terms') as built
            on
                fingerprints.kind = built.kind
                and fingerprints.trade_date is not distinct from built.trade_date
                and fingerprints.l1_partner_id is not distinct from built.l1_partner_id
                and fingerprints.period is not distinct from built.period
                and fingerprints.client_bucket is not distinct from built.client_bucket
        where
            fingerprints.fingerprint is distinct from built.fingerprint
            or (select count(*) from everything) > 0
    )

    select * from differences
    union all
    select
        'everything' as kind,
        cast(null as date) as trade_date,
        cast(null as string) as l1_partner_id,
        cast(null as string) as period,
        cast(null as string) as client_bucket
    from everything
{%- endmacro %}

{#-
    The record `identifier` (in marts) of what a table was last built from, or none (no rows)
    before its first build. A record written before its `client_bucket` column existed counts
    as none: everything is recomputed once.
-#}
{% macro commission_record(identifier) -%}
    {%- set record = adapter.get_relation(
        database=this.database, schema='marts', identifier=identifier
    ) if execute else none -%}
    {%- set columns = adapter.get_columns_in_relation(record) if record else [] -%}
    {%- if 'client_bucket' in columns | map(attribute='name') | map('lower') | list -%}
        {{ record }}
    {%- else -%}
        (
            select
                cast(null as string) as kind,
                cast(null as date) as trade_date,
                cast(null as string) as l1_partner_id,
                cast(null as string) as period,
                cast(null as string) as client_bucket,
                cast(null as string) as fingerprint
            from (select 1 as one) as nothing
            where false
        )
    {%- endif -%}
{%- endmacro %}

{#-
    int_commission_deals as the last build left it (it is built after int_commission_changed_days,
    which reads it, so not a ref), or none: before its first build, on Spark (which keeps no
    record and recomputes everything), or when the table is gone, where changed_days then
    recomputes everything, since an opening deal removed since could not be found.
-#}
{% macro commission_deals_as_built() -%}
    {{ return(adapter.get_relation(
        database=this.database, schema=this.schema, identifier='int_commission_deals'
    ) if execute and target.type != 'spark' else none) }}
{%- endmacro %}

{#-
    int_commission_changed_days' post-hooks: mark its dates in the record `identifier` as being
    recomputed, so the lines and their totals recompute them (a date whose hold moved has its
    recorded fingerprint otherwise) and a build stopped before the record is written again
    leaves them to recompute. Marked, not deleted: a date whose deals are all gone has no
    fingerprint, and only its recorded one tells the lines to delete its rows. Nothing on
    Spark, which keeps no record.
-#}
{% macro mark_changed_commission_days(identifier) -%}
    {%- set record = adapter.get_relation(
        database=this.database, schema='marts', identifier=identifier
    ) if execute and target.type != 'spark' else none -%}
    {%- if record %}
        update {{ record }} set fingerprint = 'recomputing'
        where kind = 'day' and trade_date in (
            select changed.trade_date from {{ this }} as changed where changed.kind = 'day'
        )
    {%- endif %}
{%- endmacro %}

{#-
    After the lines (and after their totals): what they were built from, `fingerprints`, as
    the record `identifier`, for the next build to compare with. Only the incremental builds
    (DuckDB) read it; on Spark both are tables built whole, and a parquet table cannot be
    replaced in place, so nothing is recorded there. The totals copy the lines' record by its
    name, not through commission_record: on a first build that record is written during the
    run, after dbt read its relation cache, so it would look absent.
-#}
{% macro record_commission_inputs(identifier, fingerprints) -%}
    {%- if target.type != 'spark' %}
        create or replace table {{ this.schema }}.{{ identifier }} as
        select * from {{ fingerprints }}
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
    (int_commission_changed_days: its fingerprint changed, or everything is recomputed);
    `timestamp`, the deal's time when `trade_date` is its date (commission_changes_in).
-#}
{% macro commission_day_changed(trade_date, timestamp=none) -%}
    {{ commission_changes_in(
        trade_date, ref('int_commission_changed_days'), 'day', 'trade_date', timestamp=timestamp
    ) }}
{%- endmacro %}

{#-
    `expression` in the `field` values of the `kind` rows of `changes` (int_commission_changed_days
    or int_commission_changes), true when it has an `everything` row. The values are read when
    the model runs (dbt compiles a model just before running it, after `changes` is built) and
    written out, so DuckDB skips by its zone maps the parts of the deal tables whose trade dates
    or months did not change: as a subquery, the filter read every deal (a daily increment at
    10M deals spent 19 s of its 41 s computing every deal line to keep one day's). Where the
    dates are those of a `timestamp` column (`expression` being its date), the filter also
    bounds that column by the first and the day after the last date: DuckDB skips by a bound
    on a column, not by a list of the column's dates.
-#}
{% macro commission_changes_in(expression, changes, kind, field, timestamp=none) -%}
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
        {%- elif values and timestamp -%}
            {%- set last = modules.datetime.date.fromisoformat(values[-1][1:-1]) -%}
            (
                {{ timestamp }} >= cast({{ values[0] }} as timestamp)
                and {{ timestamp }} < cast('{{ last + modules.datetime.timedelta(days=1) }}' as timestamp)
                and {{ expression }} in ({{ values | join(', ') }})
            )
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

{#-
    A deal's position id when the deal closes (out, out_by), else null: the key on which a deal
    is joined to its position's opening. Only a closing deal has a hold, and a null key finds
    nothing, so the opening deals are not looked up.
-#}
{% macro closing_position(deals) -%}
    case when {{ deals }}.entry_name in ('out', 'out_by') then {{ deals }}.position_id end
{%- endmacro %}

{#-
    The longest qualifying window of any plan's cpa component in ms, as a scalar subquery; null
    when some plan's cpa has no window (then nothing bounds the deals that can qualify).
-#}
{% macro cpa_window_ms() -%}
    (
        select case when count(*) = count(within_days) then max(within_days) * 86400000 end
        from {{ ref('int_commission_plan_components') }}
        where component = 'cpa'
    )
{%- endmacro %}

{#-
    The bucket of clients a client's first deposit is fingerprinted in (4,096 buckets, the first
    three hex digits of the md5 of its id: the same on every engine and every version). A
    bucket, not a client: at 10M deals a row per client was 95,000 rows written three times a
    build (the fingerprints and the two records); a changed deposit recomputes the cpa of the
    some 25 clients of its bucket.
-#}
{% macro commission_client_bucket(client_id) -%}
    substr(md5({{ client_id }}), 1, 3)
{%- endmacro %}

{#- int_commission_cpa's pre-hook: delete the cpa of the clients this build recomputes. -#}
{% macro delete_recomputed_cpa() -%}
    {%- if is_incremental() %}
        delete from {{ this }} where {{ commission_cpa_recomputed('client_id') }}
    {%- endif %}
{%- endmacro %}
