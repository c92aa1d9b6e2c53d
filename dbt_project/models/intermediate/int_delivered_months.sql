-- The months the register has been delivered for, with their count date and whether
-- the look-back (docs/definitions.md) is complete (deliveries M-16 .. M all present).
with jobseeker_deliveries as (

    select distinct delivery_month as month
    from {{ ref('stg_register__deliveries') }}
    where source_name = 'jobseeker_spells'

),

kela_deliveries as (

    select distinct delivery_month as month
    from {{ ref('stg_register__deliveries') }}
    where source_name = 'kela_payments'

),

count_dates as (

    select month, count_date from {{ ref('int_count_dates') }}

),

lookback as (

    select
        current_month.month,
        count(earlier.month) as delivered_months_in_lookback
    from jobseeker_deliveries as current_month
    left join jobseeker_deliveries as earlier
        on earlier.month <= current_month.month
        and earlier.month >= {{ add_months('current_month.month', -var('lookback_months')) }}
    group by current_month.month

),

final as (

    select
        jobseeker_deliveries.month,
        count_dates.count_date,
        lookback.delivered_months_in_lookback = {{ var('lookback_months') }} + 1 as lookback_complete,
        lead(jobseeker_deliveries.month) over (order by jobseeker_deliveries.month) as next_delivered_month,
        kela_deliveries.month is not null as kela_delivered
    from jobseeker_deliveries
    inner join count_dates on jobseeker_deliveries.month = count_dates.month
    inner join lookback on jobseeker_deliveries.month = lookback.month
    left join kela_deliveries on jobseeker_deliveries.month = kela_deliveries.month

)

select month, count_date, lookback_complete, next_delivered_month, kela_delivered from final
