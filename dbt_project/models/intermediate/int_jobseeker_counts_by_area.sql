-- Person counts of the jobseeker register by month, area and sex (wide), including the
-- new structural unemployed: structural on d(M) and not structural on d(M-1), each as
-- at its own delivery (as published for M-1).
with persons as (

    select * from {{ ref('fct_person_month_status') }}
    where {{ in_month_window('month') }}

),

previous_month as (

    select month, person_id, is_structural_unemployed
    from {{ ref('fct_person_month_status') }}
    where {{ in_month_window('month', months_before=1) }}

),

with_inflow as (

    select
        persons.*,
        persons.is_structural_unemployed
            and not coalesce(previous_month.is_structural_unemployed, false)
            as is_structural_inflow
    from persons
    left join previous_month
        on previous_month.month = {{ add_months('persons.month', -1) }}
        and previous_month.person_id = persons.person_id

),

person_areas as (

    {{ expand_to_areas('with_inflow', ['sex',
        'is_unemployed', 'is_long_term_unemployed', 'is_equivalent_long_term_unemployed',
        'is_returned_from_services', 'is_service_to_service', 'is_structural_unemployed',
        'is_youth_unemployed', 'is_laid_off', 'is_in_services', 'is_structural_inflow']) }}

),

final as (

    {{ by_sex_and_total('person_areas', ['month', 'area_code'], [
        ('unemployed', 'sum(case when is_unemployed then 1 else 0 end)'),
        ('long_term_unemployed', 'sum(case when is_long_term_unemployed then 1 else 0 end)'),
        ('equivalent_long_term_unemployed', 'sum(case when is_equivalent_long_term_unemployed then 1 else 0 end)'),
        ('returned_from_services', 'sum(case when is_returned_from_services then 1 else 0 end)'),
        ('service_to_service', 'sum(case when is_service_to_service then 1 else 0 end)'),
        ('structural_unemployed', 'sum(case when is_structural_unemployed then 1 else 0 end)'),
        ('youth_unemployed', 'sum(case when is_youth_unemployed then 1 else 0 end)'),
        ('laid_off', 'sum(case when is_laid_off then 1 else 0 end)'),
        ('in_services', 'sum(case when is_in_services then 1 else 0 end)'),
        ('structural_inflow', 'sum(case when is_structural_inflow then 1 else 0 end)'),
    ]) }}

)

select * from final
