-- Which partner a client has from which instant (commissions.md §1, rule 2): a link lasts
-- until the client's next link starts; a link without a partner detaches the client (rule 8).
with

links as (
    select * from {{ ref('int_crm__partner_mappings') }}
    where is_current
),

final as (
    select
        client_id,
        partner_id,
        effective_from as linked_from,
        lead(effective_from) over (
            partition by client_id order by effective_from
        ) as linked_to
    from links
)

select * from final
