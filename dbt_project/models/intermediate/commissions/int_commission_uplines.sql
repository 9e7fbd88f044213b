-- Each partner's chain as the CRM recorded it over time (rule 5): level 1 is the partner
-- itself, level 2 its parent, and so on, between valid_from and valid_to. The tree changes
-- only when a partner's parent does, so the chain is computed once per such change (an
-- epoch), not per line. A partner before its first recorded version has its first parent.
-- A table, small (partners x levels x epochs): as a recursive view its size cannot be
-- estimated (hundreds of millions of rows at 1M deals), so DuckDB built the split's hash table
-- on the millions of lines instead and split them on one thread (fct_commission_lines: 12.1 s
-- at 1M deals as a view, 6.3 s with this table).
{{ config(materialized='table') }}

with recursive

versions as (
    select
        partner_id,
        parent_id,
        valid_from,
        record_version
    from {{ ref('int_crm__partners') }}
),

parent_changes as (
    select
        partner_id,
        parent_id,
        valid_from,
        record_version = min(record_version) over (partition by partner_id) as is_first,
        lag(parent_id) over (partition by partner_id order by record_version) as previous_parent
    from versions
),

parent_starts as (
    select
        partner_id,
        parent_id,
        case when is_first then cast('1900-01-01 00:00:00' as timestamp) else valid_from end
            as parent_from
    from parent_changes
    where is_first or previous_parent is distinct from parent_id
),

parents as (
    select
        partner_id,
        parent_id,
        parent_from,
        lead(parent_from) over (partition by partner_id order by parent_from) as parent_to
    from parent_starts
),

epochs as (
    select
        epoch_from,
        lead(epoch_from) over (order by epoch_from) as epoch_to
    from (select distinct parent_from as epoch_from from parents) as epoch_starts
),

tree as (
    select
        epochs.epoch_from,
        epochs.epoch_to,
        parents.partner_id,
        parents.parent_id
    from epochs
    inner join parents
        on
            epochs.epoch_from >= parents.parent_from
            and (parents.parent_to is null or epochs.epoch_from < parents.parent_to)
),

chain as (
    select
        epoch_from,
        epoch_to,
        partner_id,
        1 as level,
        partner_id as upline_id,
        parent_id as next_id
    from tree
    union all
    select
        chain.epoch_from,
        chain.epoch_to,
        chain.partner_id,
        chain.level + 1 as level,
        tree.partner_id as upline_id,
        tree.parent_id as next_id
    from chain
    inner join tree
        on chain.next_id = tree.partner_id and chain.epoch_from = tree.epoch_from
    where chain.level < 50
),

final as (
    select
        partner_id,
        level,
        upline_id,
        epoch_from as valid_from,
        epoch_to as valid_to
    from chain
)

select * from final
