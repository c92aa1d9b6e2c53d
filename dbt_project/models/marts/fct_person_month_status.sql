{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        on_schema_change='fail'
    )
}}
-- The person-month classification for authorised analysts: one row per jobseeker per
-- delivered month, as the register stood at that month's delivery. Pseudonymous; never
-- published. Rebuilt month by month (delete+insert), so a month costs its own rows.
with classified as (

    select * from {{ ref('int_persons_classified_on_count_date') }}

),

pseudonyms as (

    select person_key, person_id from {{ ref('int_person_pseudonyms') }}

),

final as (

    select
        classified.month,
        classified.count_date,
        pseudonyms.person_id,
        classified.sex,
        classified.age_on_count_date,
        classified.municipality_code,
        classified.status,
        classified.service,
        classified.run_start,
        classified.unemployed_days_in_window,
        classified.is_unemployed,
        classified.is_long_term_unemployed,
        classified.is_equivalent_long_term_unemployed,
        classified.is_returned_from_services,
        classified.is_service_to_service,
        classified.is_long_term_unemployed
            or classified.is_equivalent_long_term_unemployed
            or classified.is_returned_from_services
            or classified.is_service_to_service
            as is_structural_unemployed,
        classified.is_youth_unemployed,
        classified.is_laid_off,
        classified.is_in_services
    from classified
    -- The models classify on the integer key; analysts get the pseudonym. A left join:
    -- should a key ever lack its pseudonym, the test of person_id not null fails the build.
    left join pseudonyms on pseudonyms.person_key = classified.person_key

)

select * from final
