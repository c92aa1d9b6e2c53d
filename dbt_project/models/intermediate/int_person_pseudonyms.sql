-- The pseudonym of each person key classified in the window. A person classified for
-- month M has a spell covering M's count date as the register stood at delivery M, and
-- delivery M holds every spell that overlaps M (docs/source-contracts.md), so the window's
-- own deliveries hold every pseudonym needed: a month costs its own delivery here, not the
-- 17 of its look-back. fct_person_month_status joins them with a left join and tests
-- person_id not null, so a person without one would fail the build, not drop out.
-- One pseudonym per key (the test person_key_has_one_pseudonym).
select distinct
    person_key,
    person_id
from {{ ref('stg_register__jobseeker_spells') }}
where {{ in_month_window('delivery_month') }}
