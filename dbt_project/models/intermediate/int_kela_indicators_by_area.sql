-- Kela labour-market-subsidy indicators by month, area and sex (wide). Kela counts a person
-- in the municipality it bills, so an area's recipients are its distinct persons (one
-- person can be in two municipalities in a month); euros add up.
with payments as (

    select * from {{ ref('fct_kela_payment_shares') }}
    where {{ in_month_window('month') }}

),

payment_areas as (

    {{ expand_to_areas('payments', ['person_id', 'sex', 'paid_days', 'cumulative_days', 'paid_eur',
        'invoiced_share_eur', 'has_rule', 'expected_share_eur']) }}

),

-- One row per person and area: whether any days were billed there, and the highest
-- counter among the rows with days (the Kela open-data class of the person).
persons_by_area as (

    select
        month,
        area_code,
        person_id,
        sex,
        max(case when paid_days > 0 then 1 else 0 end) as has_paid_days,
        max(case when paid_days > 0 then cumulative_days end) as highest_counter
    from payment_areas
    group by month, area_code, person_id, sex

),

{%- set limits = var('tmt_class_limits') %}
person_counts as (

    {{ by_sex_and_total('persons_by_area', ['month', 'area_code'], [
        ('tmt_recipients', 'sum(has_paid_days)'),
        ('tmt_recipients_300_499', 'sum(case when has_paid_days = 1 and highest_counter >= ' ~ limits[0] ~ ' and highest_counter < ' ~ limits[1] ~ ' then 1 else 0 end)'),
        ('tmt_recipients_500_999', 'sum(case when has_paid_days = 1 and highest_counter >= ' ~ limits[1] ~ ' and highest_counter < ' ~ limits[2] ~ ' then 1 else 0 end)'),
        ('tmt_recipients_1000_plus', 'sum(case when has_paid_days = 1 and highest_counter >= ' ~ limits[2] ~ ' then 1 else 0 end)'),
        ('tmt_recipients_over_500', 'sum(case when has_paid_days = 1 and highest_counter > ' ~ var('tmt_over_limit') ~ ' then 1 else 0 end)'),
        ('tmt_persons_any_row', 'count(*)'),
    ]) }}

),

euros as (

    {{ by_sex_and_total('payment_areas', ['month', 'area_code'], [
        ('tmt_paid_eur', 'sum(paid_eur)'),
        ('tmt_municipal_share_eur', 'sum(invoiced_share_eur)'),
        ('tmt_municipal_share_expected_eur', 'sum(expected_share_eur)'),
        ('rows_without_rule', 'sum(case when has_rule then 0 else 1 end)'),
    ]) }}

),

final as (

    select
        person_counts.month,
        person_counts.area_code,
        person_counts.sex,
        person_counts.tmt_recipients,
        person_counts.tmt_recipients_300_499,
        person_counts.tmt_recipients_500_999,
        person_counts.tmt_recipients_1000_plus,
        person_counts.tmt_recipients_over_500,
        person_counts.tmt_persons_any_row,
        euros.tmt_paid_eur,
        euros.tmt_municipal_share_eur,
        euros.tmt_municipal_share_expected_eur,
        euros.rows_without_rule
    from person_counts
    inner join euros
        on euros.month = person_counts.month
        and euros.area_code = person_counts.area_code
        and euros.sex = person_counts.sex

)

select * from final
