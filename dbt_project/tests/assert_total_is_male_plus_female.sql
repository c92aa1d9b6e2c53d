-- Every person count and euro figure: total = male + female (per month, area, indicator).
with cells as (

    select month, area_code, indicator, sex, value
    from {{ ref('fct_indicators_monthly') }}
    where value is not null

),

compared as (

    select
        month,
        area_code,
        indicator,
        sum(case when sex = 'total' then value else 0 end) as total_value,
        sum(case when sex in ('male', 'female') then value else 0 end) as sum_of_sexes
    from cells
    group by month, area_code, indicator

)

select * from compared
where abs(total_value - sum_of_sexes) > 0.005
