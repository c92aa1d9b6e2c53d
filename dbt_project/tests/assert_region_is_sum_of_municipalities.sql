-- Jobseeker-register counts and euros: a region equals the sum of its municipalities on
-- the count date (Kela recipient counts are distinct persons and need not add up).
with cells as (

    select * from {{ ref('fct_indicators_monthly') }}
    where value is not null
        and indicator not in ('tmt_recipients', 'tmt_recipients_300_499', 'tmt_recipients_500_999',
                              'tmt_recipients_1000_plus', 'tmt_recipients_over_500', 'tmt_persons_any_row')

),

municipalities as (

    select month, parent_area_code as area_code, sex, indicator, sum(value) as sum_of_parts
    from cells
    where area_level = 'municipality'
    group by month, parent_area_code, sex, indicator

),

regions as (

    select month, area_code, sex, indicator, value
    from cells
    where area_level = 'region'

)

select regions.*, municipalities.sum_of_parts
from regions
left join municipalities
    on municipalities.month = regions.month
    and municipalities.area_code = regions.area_code
    and municipalities.sex = regions.sex
    and municipalities.indicator = regions.indicator
where abs(regions.value - coalesce(municipalities.sum_of_parts, 0)) > 0.005
