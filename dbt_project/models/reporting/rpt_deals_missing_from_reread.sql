-- Deals a platform sent once and left out when it sent the same file (the same server day) again.
-- They are reported, never deleted: the earlier version stays current until someone decides.
with

versions as (
    select * from {{ ref('int_platform__deal_versions') }}
),

batches as (
    select * from {{ source('platform', 'load_batches') }}
),

latest_batch_per_file as (
    select
        source_file,
        {{ arg_max('batch_id', 'loaded_at') }} as latest_batch_id,
        max(loaded_at) as latest_loaded_at,
        count(*) as loads
    from batches
    group by source_file
),

reread_files as (
    select * from latest_batch_per_file
    where loads > 1
),

in_latest as (
    select distinct
        deals.server,
        deals.ticket,
        deals.entry,
        deals._source_file
    from {{ source('platform', 'deals') }} as deals
    inner join reread_files on deals._batch_id = reread_files.latest_batch_id
),

missing as (
    select
        versions.platform,
        versions.server,
        versions.ticket as deal_ticket,
        versions.entry,
        versions.login,
        versions.time_server as deal_time_server,
        versions._source_file as source_file,
        versions._batch_id as last_seen_batch_id,
        versions._loaded_at as last_seen_at,
        reread_files.latest_batch_id as reread_batch_id,
        reread_files.latest_loaded_at as reread_at
    from versions
    inner join reread_files
        on
            versions._source_file = reread_files.source_file
            and versions._batch_id != reread_files.latest_batch_id
    left join in_latest
        on
            versions.server = in_latest.server
            and versions.ticket = in_latest.ticket
            and versions.entry = in_latest.entry
            and versions._source_file = in_latest._source_file
    where versions.is_current and in_latest.ticket is null
)

select * from missing
