-- The count date (laskentapäivä) of every month: its last working day, i.e. the last
-- Monday-Friday that is not a Finnish public holiday (seeds/finnish_public_holidays.csv).
with days as (

    {{ dbt.date_spine('day', "cast('2000-01-01' as date)", "cast('2041-01-01' as date)") }}

),

holidays as (

    select holiday_date from {{ ref('finnish_public_holidays') }}

),

working_days as (

    select cast(days.date_day as date) as calendar_day
    from days
    left join holidays
        on cast(days.date_day as date) = holidays.holiday_date
    where extract(isodow from days.date_day) between 1 and 5
        and holidays.holiday_date is null

),

final as (

    select
        cast({{ dbt.date_trunc('month', 'calendar_day') }} as date) as month,
        max(calendar_day) as count_date
    from working_days
    group by 1

)

select month, count_date from final
