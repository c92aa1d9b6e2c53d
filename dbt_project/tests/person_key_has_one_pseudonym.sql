-- Fails with each person_key that goes with more than one pseudonym: the models classify
-- persons on the key (stg_register__jobseeker_spells), so a collision would otherwise
-- merge two persons without a word. Read over the deliveries a run reads (as
-- int_person_pseudonyms does), not the whole history, so a month's cost does not grow
-- with the history in the warehouse; the runs of earlier windows tested theirs.
select
    person_key,
    min(person_id) as first_pseudonym,
    max(person_id) as last_pseudonym
from {{ ref('stg_register__jobseeker_spells') }}
where {{ in_deliveries_for_window('delivery_month') }}
group by person_key
having min(person_id) <> max(person_id)
