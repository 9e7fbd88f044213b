-- The statements finance approved, one row per partner, month and frozen component (an
-- approved partner-month with no component has one row with a null component: frozen at
-- zero, rule 10), from the CRM's commission_statement records.
with

statements as (
    select * from {{ ref('int_crm__commission_statements') }}
    where is_current and status in ('approved', 'paid')
),

components as (
    select
        statements.statement_id,
        cast({{ json_text('frozen.value', 'amount') }} as decimal(18, 2)) as amount,
        cast({{ json_text('frozen.value', 'line_count') }} as integer) as line_count,
        {{ json_text('frozen.value', 'component') }} as component
    from statements {{ json_rows('statements.components', 'frozen', 'list') }}
),

final as (
    select
        statements.partner_id,
        statements.period,
        statements.status,
        statements.paid_reference,
        statements.has_payout,
        statements.earned,
        statements.carried_in,
        statements.payable,
        statements.carried_out,
        components.component,
        components.amount,
        components.line_count
    from statements
    left join components on statements.statement_id = components.statement_id
)

select * from final
