-- The pseudonym of each person key, from the same deliveries as int_spell_versions: the
-- classification works on the compact key, and fct_person_month_status gives analysts
-- the pseudonym back. One pseudonym per key (stg_register__jobseeker_spells's test).
select distinct
    person_key,
    person_id
from {{ ref('stg_register__jobseeker_spells') }}
where {{ in_deliveries_for_window('delivery_month') }}
