-- Leads that became clients with no activity ever recorded: the funnel keeps them at
-- `created`, and sales managers follow them up here (a data-entry gap or a walk-in).
select * from {{ ref('rpt_funnel_leads') }}
where converted_without_contact
