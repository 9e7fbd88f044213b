-- One partner's month by component and level (commissions.md section 5): its lines summed,
-- rounded half away from zero to cents as the statement rounds, for the statement's by-level
-- view and the PDF. The lines are recomputed at every build, so an approved month's levels show
-- the recomputed figures while its statement keeps the frozen ones (the difference is an
-- adjustment in a later month). The lines are read summed by day (fct_commission_daily_totals).
select
    partner_id,
    period,
    component,
    level,
    cast(sum(line_count) as bigint) as line_count,
    round(sum(amount), 2) as amount
from {{ ref('fct_commission_daily_totals') }}
group by partner_id, period, component, level
