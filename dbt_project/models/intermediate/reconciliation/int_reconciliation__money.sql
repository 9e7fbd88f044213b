-- The money check: executed CRM payments against the platform's balance operations. A balance
-- operation belongs to a payment when the payment's id is a word of its comment (the default
-- posting convention); times are not compared, so a posting a minute after the CRM's execution
-- time matches as any other.
with

accounts as (
    select * from {{ ref('int_crm__trading_accounts') }}
    where is_current
),

payments as (
    select
        payments.payment_id,
        payments.client_id,
        payments.kind,
        payments.amount,
        payments.currency,
        accounts.server,
        accounts.login,
        payments._event_id as crm_ref,
        cast(payments.valid_from as date) as executed_on,
        -- deposits post +amount, withdrawals -amount
        case when payments.kind = 'withdrawal' then -payments.amount else payments.amount end
            as posted_amount
    from {{ ref('int_crm__payments') }} as payments
    left join accounts on payments.account_id = accounts.account_id
    where
        payments.is_current
        and payments.status = 'executed'
        and payments.kind in ('deposit', 'withdrawal')
),

operations as (
    select
        server,
        login,
        operation_ticket,
        amount,
        comment,
        cast(operation_time_server as date) as operation_day,
        _source_file || ' row ' || _row_number as platform_ref
    from {{ ref('int_platform__balance_operations') }}
    where operation = 'balance'
),

-- Whole words only, so PAY0000012 is not taken for PAY00000123.
comment_words as (
    select distinct
        server,
        operation_ticket,
        {{ split_to_rows('comment', "'[^A-Za-z0-9_-]+'") }} as word
    from operations
    where comment is not null
),

postings as (
    select
        operations.*,
        payments.payment_id
    from comment_words
    inner join payments on comment_words.word = payments.payment_id
    inner join operations
        on
            comment_words.server = operations.server
            and comment_words.operation_ticket = operations.operation_ticket
),

posted as (
    select
        payment_id,
        count(*) as postings,
        sum(amount) as posted_total,
        min(server) as posted_server,
        min(login) as posted_login,
        max(login) as last_posted_login,
        min(operation_ticket) as ticket,
        {{ string_agg_ordered('platform_ref', "'; '", 'operation_ticket') }} as platform_ref
    from postings
    group by payment_id
),

matched as (
    select
        payments.*,
        posted.postings,
        posted.posted_total,
        posted.posted_server,
        posted.posted_login,
        posted.last_posted_login,
        posted.ticket,
        posted.platform_ref
    from payments
    left join posted on payments.payment_id = posted.payment_id
),

breaks as (
    select
        'payment_not_posted' as break_type,
        server,
        login,
        client_id,
        payment_id,
        cast(null as bigint) as ticket,
        executed_on as break_day,
        currency,
        cast(posted_amount as string) as expected,
        cast(null as string) as actual,
        -posted_amount as difference,
        abs(posted_amount) as money_at_stake,
        crm_ref,
        cast(null as string) as platform_ref
    from matched
    where postings is null

    union all

    select
        'duplicate_posting' as break_type,
        server,
        login,
        client_id,
        payment_id,
        ticket,
        executed_on as break_day,
        currency,
        cast(posted_amount as string) as expected,
        cast(posted_total as string) as actual,
        posted_total - posted_amount as difference,
        abs(posted_total - posted_amount) as money_at_stake,
        crm_ref,
        platform_ref
    from matched
    where postings > 1

    union all

    select
        'amount_mismatch' as break_type,
        server,
        login,
        client_id,
        payment_id,
        ticket,
        executed_on as break_day,
        currency,
        cast(posted_amount as string) as expected,
        cast(posted_total as string) as actual,
        posted_total - posted_amount as difference,
        abs(posted_total - posted_amount) as money_at_stake,
        crm_ref,
        platform_ref
    from matched
    where postings = 1 and posted_total <> posted_amount

    union all

    select
        'login_mismatch' as break_type,
        server,
        login,
        client_id,
        payment_id,
        ticket,
        executed_on as break_day,
        currency,
        server || ' ' || login as expected,
        posted_server || ' ' || posted_login as actual,
        cast(null as decimal(18, 2)) as difference,
        abs(posted_amount) as money_at_stake,
        crm_ref,
        platform_ref
    from matched
    where
        postings = 1
        and (posted_server is distinct from server or posted_login is distinct from login)

    union all

    select
        'unauthorised_adjustment' as break_type,
        operations.server,
        operations.login,
        cast(null as string) as client_id,
        cast(null as string) as payment_id,
        operations.operation_ticket as ticket,
        operations.operation_day as break_day,
        cast(null as string) as currency,
        cast(null as string) as expected,
        cast(operations.amount as string) as actual,
        operations.amount as difference,
        abs(operations.amount) as money_at_stake,
        cast(null as string) as crm_ref,
        operations.platform_ref
    from operations
    where not exists (
        select 1 from postings
        where
            postings.server = operations.server
            and postings.operation_ticket = operations.operation_ticket
    )
)

select
    'money' as check_name,
    break_type,
    server,
    login,
    client_id,
    payment_id,
    cast(null as string) as partner_id,
    ticket,
    break_day,
    currency,
    expected,
    actual,
    difference,
    money_at_stake,
    crm_ref,
    platform_ref
from breaks
