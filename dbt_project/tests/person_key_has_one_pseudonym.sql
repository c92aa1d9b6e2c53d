-- Fails with each person_key that goes with more than one pseudonym: the models classify
-- persons on the key (macros/person_key.sql), so a collision would otherwise merge two
-- persons without a word. Read over the deliveries a run reads (as int_spell_versions
-- does), not the whole history, so a month's cost does not grow with the history in the
-- warehouse; the runs of earlier windows tested theirs. The key is computed once per
-- distinct pseudonym, not once per row: a person has a row in most of the look-back's
-- deliveries, and parsing the key is the dearest part of the test.
with pseudonyms as (

    select distinct person_id
    from {{ ref('stg_register__jobseeker_spells') }}
    where {{ in_deliveries_for_window('delivery_month') }}

)

select
    {{ person_key('person_id') }} as person_key,
    min(person_id) as first_pseudonym,
    max(person_id) as last_pseudonym
from pseudonyms
group by {{ person_key('person_id') }}
having count(*) > 1
