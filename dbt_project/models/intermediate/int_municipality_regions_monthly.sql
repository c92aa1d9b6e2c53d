-- Each municipality's region on the count date of each delivered month, and whether it is
-- in the area scope (Vaala, 785, is in Kainuu up to 2015-12 and in MK17 after).
{%- set municipalities = 'synthetic_municipalities' if var('municipality_set') == 'synthetic' else 'municipalities' %}
{%- set regions = 'synthetic_regions' if var('municipality_set') == 'synthetic' else 'regions' %}
-- depends_on: {{ ref('municipalities') }}, {{ ref('regions') }}, {{ ref('synthetic_municipalities') }}, {{ ref('synthetic_regions') }}
with months as (

    select month, count_date
    from {{ ref('int_delivered_months') }}
    where {{ in_month_window('month') }}

),

municipalities as (

    select * from {{ ref(municipalities) }}

),

regions as (

    select * from {{ ref(regions) }}

),

final as (

    select
        months.month,
        months.count_date,
        municipalities.municipality_code,
        municipalities.municipality_name_fi,
        municipalities.region_code,
        regions.region_name_fi,
        {{ in_area_scope('municipalities.region_code') }} as in_scope
    from months
    inner join municipalities
        on months.count_date between municipalities.valid_from and municipalities.valid_to
    inner join regions
        on municipalities.region_code = regions.region_code

)

select * from final
