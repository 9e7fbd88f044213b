-- The adjustment entries finance approved (rule 11): each entry booked into a month that is now
-- approved or paid, frozen in that statement's CRM record at approval with the month and
-- component it corrects. rpt_commission_adjustments counts them as settled, so an entry is paid
-- once, in the month it was booked into, not again in every later month that is approved.
with

statements as (
    select * from {{ ref('int_crm__commission_statements') }}
    where is_current and status in ('approved', 'paid')
),

entries as (
    select
        statements.partner_id,
        statements.period,
        {{ json_text('entry.value', 'corrects_period') }} as corrects_period,
        {{ json_text('entry.value', 'component') }} as component,
        cast({{ json_text('entry.value', 'frozen_amount') }} as decimal(18, 2)) as frozen_amount,
        cast({{ json_text('entry.value', 'recomputed_amount') }} as decimal(18, 2))
            as recomputed_amount,
        cast({{ json_text('entry.value', 'amount') }} as decimal(18, 2)) as amount
    from statements {{ json_rows('statements.adjustments', 'entry', 'list') }}
)

select * from entries
