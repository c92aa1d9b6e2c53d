-- The areas published for each delivered month: every region in scope, every municipality
-- belonging to such a region on the count date, and with scope 'all' the whole country.
-- Codes follow Statistics Finland (KU205, MK18, SSS).
{%- set regions = 'synthetic_regions' if var('municipality_set') == 'synthetic' else 'regions' %}
-- depends_on: {{ ref('regions') }}, {{ ref('synthetic_regions') }}
with memberships as (

    select * from {{ ref('int_municipality_regions_monthly') }}
    where in_scope

),

months as (

    select month, count_date
    from {{ ref('int_delivered_months') }}
    where {{ in_month_window('month') }}

),

regions as (

    select region_code, region_name_fi from {{ ref(regions) }}

),

municipality_areas as (

    select
        month,
        count_date,
        'KU' || municipality_code as area_code,
        'municipality' as area_level,
        municipality_name_fi as area_name,
        region_code as parent_area_code
    from memberships

),

-- Every region in scope, also one that has no municipality on the count date (a count
-- with nobody in it is 0, not a missing row).
region_areas as (

    select
        months.month,
        months.count_date,
        regions.region_code as area_code,
        'region' as area_level,
        regions.region_name_fi as area_name,
        {% if scope_includes_country() %}'SSS'{% else %}cast(null as varchar){% endif %} as parent_area_code
    from months
    cross join regions
    where {{ in_area_scope('regions.region_code') }}

),

{% if scope_includes_country() %}
-- Used by `final` when the scope includes the country; the linter also renders the other branch.
country_area as (  -- noqa: ST03

    select distinct
        month,
        count_date,
        'SSS' as area_code,
        'country' as area_level,
        'Koko maa' as area_name,
        cast(null as varchar) as parent_area_code
    from {{ ref('int_municipality_regions_monthly') }}

),
{% endif %}

final as (

    select * from municipality_areas
    union all
    select * from region_areas
    {% if scope_includes_country() %}
    union all
    select * from country_area
    {% endif %}

)

select month, count_date, area_code, area_level, area_name, parent_area_code from final
