{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='month',
        on_schema_change='fail'
    )
}}
-- The run's data-quality summary of what the figures leave out: jobseekers whose
-- municipality on the count date, and Kela rows whose billed municipality, is outside
-- the area scope on that date, or is not a known municipality at all.
with persons as (

    select month, municipality_code, person_id
    from {{ ref('fct_person_month_status') }}
    where {{ in_month_window('month') }}

),

payments as (

    select month, municipality_code, person_id
    from {{ ref('fct_kela_payment_shares') }}
    where {{ in_month_window('month') }}

),

memberships as (

    select month, municipality_code, region_code, in_scope
    from {{ ref('int_municipality_regions_monthly') }}

),

records as (

    select 'jobseeker_spells' as source_name, month, municipality_code, person_id from persons
    union all
    select 'kela_payments' as source_name, month, municipality_code, person_id from payments

),

classified as (

    select
        records.source_name,
        records.month,
        records.municipality_code,
        memberships.region_code,
        case when memberships.municipality_code is null then 'unknown_municipality' else 'outside_scope' end
            as reason,
        records.person_id
    from records
    left join memberships
        on memberships.month = records.month
        and memberships.municipality_code = records.municipality_code
    where memberships.in_scope is null or not memberships.in_scope

),

final as (

    select
        month,
        source_name,
        municipality_code,
        region_code,
        reason,
        count(*) as records,
        count(distinct person_id) as persons
    from classified
    group by month, source_name, municipality_code, region_code, reason

)

select month, source_name, municipality_code, region_code, reason, records, persons from final
