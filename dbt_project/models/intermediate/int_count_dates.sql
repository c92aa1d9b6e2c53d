-- The count date (laskentapäivä) of every month: its last working day, i.e. the last
-- Monday-Friday that is not a Finnish public holiday (seeds/finnish_public_holidays.csv).
-- The calendar covers the holiday seed's years, 2000-2040 (the supported months are
-- defined in pipelines/core/supported_months.py; a unit test keeps the two equal). A
-- delivered month outside it stops the build with an error naming the month: joined on
-- the calendar, its figures would otherwise vanish without a word.
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

calendar_months as (

    select
        cast({{ dbt.date_trunc('month', 'calendar_day') }} as date) as month,
        max(calendar_day) as count_date
    from working_days
    group by 1

),

outside_calendar as (

    select distinct deliveries.delivery_month as month
    from {{ ref('stg_register__deliveries') }} as deliveries
    left join calendar_months
        on deliveries.delivery_month = calendar_months.month
    where calendar_months.month is null

),

final as (

    select
        month,
        count_date
    from calendar_months
    union all
    select
        month,
        cast(error(
            'Kaira: the delivered month ' || strftime(month, '%Y-%m')
            || ' is outside the calendar of the models (2000-01 .. 2040-12): its count date is unknown.'
            || ' Extend the holiday seed (python -m pipelines.core.holidays) and the date spine of'
            || ' int_count_dates.sql, or remove the delivery'
        ) as date) as count_date
    from outside_calendar

)

select month, count_date from final
