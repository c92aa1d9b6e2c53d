{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        on_schema_change='fail'
    )
}}
-- Kela labour market subsidy (TMT) rows of each delivered month, with the municipal share
-- recomputed by the rule of its period (seeds/municipal_share_rules.csv). The rule works
-- per payment period: the rate is found from the counter before the period. One row per
-- delivered TMT row: the municipality's controller compares invoiced and recomputed here.
with payments as (

    select * from {{ ref('stg_kela__tmt_payments') }}
    where benefit = 'TMT'
        and {{ in_month_window('delivery_month') }}

),

rules as (

    select * from {{ ref('municipal_share_rules') }}

),

with_counter_before as (

    select
        *,
        cumulative_days - paid_days as days_before_period
    from payments

),

-- The rule period covering the payment month, if any (a month without one: no_rule).
covered_months as (

    select distinct
        with_counter_before.payment_month
    from with_counter_before
    inner join rules
        on with_counter_before.payment_month between rules.valid_from and rules.valid_to

),

-- Of the period's thresholds that the counter before the period has reached, the highest.
rates as (

    select
        with_counter_before.delivery_month,
        with_counter_before.source_line,
        rules.municipal_rate
    from with_counter_before
    inner join rules
        on with_counter_before.payment_month between rules.valid_from and rules.valid_to
        and rules.min_days_before <= with_counter_before.days_before_period
    qualify row_number() over (
        partition by with_counter_before.delivery_month, with_counter_before.source_line
        order by rules.min_days_before desc
    ) = 1

),

final as (

    select
        payments.delivery_month as month,
        payments.source_line,
        payments.person_id,
        payments.sex,
        payments.payment_month,
        payments.municipality_code,
        payments.paid_days,
        payments.cumulative_days,
        payments.days_before_period,
        payments.paid_eur,
        payments.invoiced_share_eur,
        covered_months.payment_month is not null as has_rule,
        case when covered_months.payment_month is not null then coalesce(rates.municipal_rate, 0) end
            as municipal_rate,
        -- exact decimals, rounded half away from zero to the cent, row by row
        case
            when covered_months.payment_month is not null
                then round(cast(coalesce(rates.municipal_rate, 0) as decimal(9, 4)) * payments.paid_eur, 2)
        end as expected_share_eur,
        payments.invoiced_share_eur - case
            when covered_months.payment_month is not null
                then round(cast(coalesce(rates.municipal_rate, 0) as decimal(9, 4)) * payments.paid_eur, 2)
        end as share_difference_eur
    from with_counter_before as payments
    left join covered_months
        on covered_months.payment_month = payments.payment_month
    left join rates
        on rates.delivery_month = payments.delivery_month
        and rates.source_line = payments.source_line

)

select * from final
