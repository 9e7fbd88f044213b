-- Every break ever found, with where it stands now: open, acknowledged or resolved by a person
-- (the CRM's decision events), or cleared when the latest build no longer finds it. A break
-- that comes back after clearing is open again: decisions count from its latest return.
with

history as (
    select
        *,
        lag(present) over (partition by break_id order by built_at) as was_present
    from {{ ref('reconciliation_break_history') }}
),

episodes as (
    select
        break_id,
        min(built_at) filter (where present) as first_seen_at,
        max(built_at) filter (where present and not coalesce(was_present, false)) as opened_at
    from history
    group by break_id
),

latest as (
    select {{ star_except(['was_present']) }} from history
    qualify row_number() over (partition by break_id order by built_at desc) = 1
),

decisions as (
    select
        episodes.break_id,
        decisions.status,
        decisions.note,
        decisions.changed_by as decided_by,
        decisions.valid_from as decided_at
    from episodes
    inner join {{ ref('int_crm__break_decisions') }} as decisions
        on episodes.break_id = decisions.break_id and episodes.opened_at <= decisions.valid_from
    qualify row_number() over (
        partition by episodes.break_id order by decisions.record_version desc
    ) = 1
),

build as (
    select {{ build_time() }} as built_at
)

select
    latest.break_id,
    latest.check_name,
    latest.break_type,
    latest.severity,
    latest.server,
    latest.login,
    latest.client_id,
    latest.payment_id,
    latest.partner_id,
    latest.ticket,
    latest.break_day,
    latest.currency,
    latest.expected,
    latest.actual,
    latest.difference,
    latest.money_at_stake,
    latest.money_at_stake_usd,
    latest.crm_ref,
    latest.platform_ref,
    episodes.first_seen_at,
    episodes.opened_at,
    decisions.note,
    decisions.decided_by,
    decisions.decided_at,
    {{ days_between(
        'episodes.first_seen_at',
        '(case when latest.present then build.built_at else latest.built_at end)',
    ) }} as age_days,
    case
        when not latest.present then 'cleared'
        else coalesce(decisions.status, 'open')
    end as status
from latest
inner join episodes on latest.break_id = episodes.break_id
cross join build
left join decisions on latest.break_id = decisions.break_id
