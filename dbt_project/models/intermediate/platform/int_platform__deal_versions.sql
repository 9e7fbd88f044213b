-- Every version of every deal, in the order loaded. A record re-sent unchanged is the same
-- version; one whose content changed under the same ticket is a correction and supersedes it.
with

deals as (
    select * from {{ ref('stg_platform__deals') }}
),

hashed as (
    select
        *,
        {{ content_hash([
            'login', 'order_ticket', 'position_id', 'time_server', 'action', 'raw_symbol',
            'lots', 'units', 'price', 'contract_size', 'profit', 'commission', 'swap', 'fee',
            'comment'
        ]) }} as content_hash
    from deals
),

ordered as (
    select
        *,
        lag(content_hash) over (
            partition by server, ticket, entry order by _loaded_at, _row_number
        ) as previous_hash
    from hashed
),

versions as (
    select
        {{ star_except(['previous_hash']) }},
        row_number() over (
            partition by server, ticket, entry order by _loaded_at, _row_number
        ) as version_number
    from ordered
    where previous_hash is null or previous_hash != content_hash
),

final as (
    select
        *,
        version_number = max(version_number) over (partition by server, ticket, entry)
            as is_current
    from versions
)

select * from final
