-- Accepted identity documents expiring within 30 days of build time (as_of), soonest first:
-- the client's KYC approval lapses with them unless a new document is accepted.
with

documents as (
    select * from {{ ref('int_crm__kyc_documents') }}
    where is_current and status = 'accepted' and expires_on is not null
),

clients as (
    select * from {{ ref('int_crm__clients') }}
    where is_current
)

select
    documents.document_id,
    documents.client_id,
    clients.name as client_name,
    clients.country,
    documents.doc_type,
    documents.expires_on,
    {{ days_between('cast(' ~ as_of() ~ ' as date)', 'documents.expires_on') }} as days_left,
    documents._event_id as crm_event_id
from documents
left join clients on documents.client_id = clients.client_id
where
    documents.expires_on >= cast({{ as_of() }} as date)
    and documents.expires_on <= cast({{ as_of() }} as date) + 30
