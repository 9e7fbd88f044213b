-- Which partner a client has from which instant (commissions.md §1, rule 2): a link lasts
-- until the client's next link starts; a link without a partner detaches the client (rule 8).
-- A link the CRM has ended (effective_to) ends then even when no later link follows it, and a
-- link a later import left open ends where the next one starts: whichever comes first.
with

links as (
    select * from {{ ref('int_crm__partner_mappings') }}
    where is_current
),

bounded as (
    select
        client_id,
        partner_id,
        effective_from,
        effective_to,
        lead(effective_from) over (
            partition by client_id order by effective_from
        ) as next_from
    from links
),

final as (
    select
        client_id,
        partner_id,
        effective_from as linked_from,
        case
            when effective_to is null then next_from
            when next_from is null then effective_to
            else least(effective_to, next_from)
        end as linked_to
    from bounded
)

select * from final
