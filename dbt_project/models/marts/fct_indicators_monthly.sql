{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        on_schema_change='fail'
    )
}}
-- Every indicator (docs/definitions.md) for every area in scope, sex and delivered month, before
-- disclosure control: the warehouse's full-precision figures for authorised analysts and
-- the input of publishing. A count with nobody in it is 0, not a missing row.
{%- set jobseeker = jobseeker_indicators() %}
{%- set kela_counts = kela_count_indicators() + internal_indicators() %}
with months as (

    select
        month,
        count_date,
        lookback_complete,
        kela_delivered
    from {{ ref('int_delivered_months') }}
    where {{ in_month_window('month') }}

),

all_delivered_months as (

    select month, lookback_complete from {{ ref('int_delivered_months') }}

),

-- Only the months before the window's months are asked about: all of them would scan the
-- month column of every person-month in the warehouse.
computed_months as (

    select distinct month from {{ ref('fct_person_month_status') }}
    where {{ in_month_window('month', months_before=1) }}

),

-- structural_inflow needs M-1 computed (as at its own delivery), and complete.
previous_months as (

    select
        months.month,
        computed_months.month is not null as previous_computed,
        coalesce(all_delivered_months.lookback_complete, false) as previous_lookback_complete
    from months
    left join computed_months
        on computed_months.month = {{ add_months('months.month', -1) }}
    left join all_delivered_months
        on all_delivered_months.month = {{ add_months('months.month', -1) }}

),

share_rule_months as (

    select distinct months.month
    from months
    inner join {{ ref('municipal_share_rules') }} as rules
        on months.month between rules.valid_from and rules.valid_to

),

areas as (

    select * from {{ ref('int_areas_monthly') }}
    where {{ in_month_window('month') }}

),

sexes as (

    select 'total' as sex, 1 as sex_order
    union all
    select 'male' as sex, 2 as sex_order
    union all
    select 'female' as sex, 3 as sex_order

),

indicators as (

    {%- for indicator in all_indicators() %}
    select '{{ indicator }}' as indicator, {{ loop.index }} as indicator_order
    {%- if not loop.last %} union all{% endif %}
    {%- endfor %}

),

jobseeker_counts as (

    select * from {{ ref('int_jobseeker_counts_by_area') }}

),

kela as (

    select * from {{ ref('int_kela_indicators_by_area') }}

),

values_long as (

    {%- for indicator in jobseeker %}
    select month, area_code, sex, '{{ indicator }}' as indicator,
        cast({{ indicator }} as double) as raw_value
    from jobseeker_counts
    union all
    {%- endfor %}
    {%- for indicator in kela_counts + ['tmt_paid_eur', 'tmt_municipal_share_eur', 'tmt_municipal_share_expected_eur'] %}
    select month, area_code, sex, '{{ indicator }}' as indicator,
        cast({{ indicator }} as double) as raw_value
    from kela
    union all
    {%- endfor %}
    select month, area_code, sex, 'tmt_municipal_share_diff_eur' as indicator,
        cast(tmt_municipal_share_eur - tmt_municipal_share_expected_eur as double) as raw_value
    from kela

),

scaffold as (

    select
        areas.month,
        areas.count_date,
        areas.area_code,
        areas.area_level,
        areas.area_name,
        areas.parent_area_code,
        sexes.sex,
        sexes.sex_order,
        indicators.indicator,
        indicators.indicator_order
    from areas
    cross join sexes
    cross join indicators

),

final as (

    select
        scaffold.month,
        scaffold.count_date,
        scaffold.area_code,
        scaffold.area_level,
        scaffold.area_name,
        scaffold.parent_area_code,
        scaffold.sex,
        scaffold.indicator,
        scaffold.indicator_order,
        case
            when scaffold.indicator = 'structural_inflow' and not previous_months.previous_computed
                then null
            when scaffold.indicator in ('tmt_municipal_share_expected_eur', 'tmt_municipal_share_diff_eur')
                and share_rule_months.month is null
                then null
            when scaffold.indicator like 'tmt\_%' escape '\' and not months.kela_delivered
                then null
            else coalesce(values_long.raw_value, 0)
        end as value,
        case
            when scaffold.indicator in ('tmt_municipal_share_expected_eur', 'tmt_municipal_share_diff_eur')
                and share_rule_months.month is null
                then 'no_rule'
            when scaffold.indicator = 'structural_inflow' and not previous_months.previous_computed
                then 'not_available'
            when scaffold.indicator like 'tmt\_%' escape '\' and not months.kela_delivered
                then 'not_available'
            when scaffold.indicator = 'structural_inflow'
                and not (months.lookback_complete and previous_months.previous_lookback_complete)
                then 'incomplete'
            when scaffold.indicator not like 'tmt\_%' escape '\' and not months.lookback_complete
                then 'incomplete'
            else 'ok'
        end as status,
        months.lookback_complete
    from scaffold
    inner join months on months.month = scaffold.month
    inner join previous_months on previous_months.month = scaffold.month
    left join share_rule_months on share_rule_months.month = scaffold.month
    left join values_long
        on values_long.month = scaffold.month
        and values_long.area_code = scaffold.area_code
        and values_long.sex = scaffold.sex
        and values_long.indicator = scaffold.indicator

)

select
    month,
    count_date,
    area_code,
    area_level,
    area_name,
    parent_area_code,
    sex,
    indicator,
    indicator_order,
    value,
    status,
    lookback_complete
from final
