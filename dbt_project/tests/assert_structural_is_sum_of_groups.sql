-- structural_unemployed = long-term + equivalent + returned from services + service to service.
with pivoted as (

    select
        month,
        area_code,
        sex,
        sum(case when indicator = 'structural_unemployed' then value end) as structural,
        sum(case when indicator in ('long_term_unemployed', 'equivalent_long_term_unemployed',
                                    'returned_from_services', 'service_to_service') then value end) as groups
    from {{ ref('fct_indicators_monthly') }}
    group by month, area_code, sex

)

select * from pivoted where structural <> groups
