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

final as (

    select
        month,
        count_date,
        person_id,
        sex,
        age_on_count_date,
        municipality_code,
        status,
        service,
        run_start,
        unemployed_days_in_window,
        is_unemployed,
        is_long_term_unemployed,
        is_equivalent_long_term_unemployed,
        is_returned_from_services,
        is_service_to_service,
        is_long_term_unemployed
            or is_equivalent_long_term_unemployed
            or is_returned_from_services
            or is_service_to_service
            as is_structural_unemployed,
        is_youth_unemployed,
        is_laid_off,
        is_in_services
    from classified

)

select * from final
