-- Each jobseeker's state and classification on the count date d of each delivered month,
-- from the register as it stood at that delivery (docs/definitions.md, person-level indicators).
-- A person is here when a spell covers d; nobody else is a jobseeker that day.
with spells as (

    select * from {{ ref('int_spells_as_of_delivery') }}

),

unemployment as (

    select * from {{ ref('int_unemployment_on_count_date') }}

),

placements as (

    select * from {{ ref('int_service_placements') }}

),

-- The spell covering d. Spells of one person do not overlap (ingest rejects them); the
-- ordering only makes the choice deterministic should two versions ever meet.
on_count_date as (

    select
        as_of_month,
        count_date,
        person_key,
        birth_date,
        sex,
        status,
        service,
        municipality_code,
        spell_start
    from spells
    where spell_start <= count_date
        and {{ open_end('spell_end') }} >= count_date
    qualify row_number() over (
        partition by as_of_month, person_key order by spell_start desc, spell_id asc
    ) = 1

),

-- A placement that ended on e with d - return window < e <= d.
recent_placement_end as (

    select distinct
        on_count_date.as_of_month,
        on_count_date.person_key
    from on_count_date
    inner join placements
        on placements.as_of_month = on_count_date.as_of_month
        and placements.person_key = on_count_date.person_key
        and placements.placement_end <= on_count_date.count_date
        and placements.placement_end > {{ add_months('on_count_date.count_date', -var('return_window_months')) }}

),

current_placement as (

    select
        on_count_date.as_of_month,
        on_count_date.person_key,
        on_count_date.count_date,
        placements.placement_start
    from on_count_date
    inner join placements
        on placements.as_of_month = on_count_date.as_of_month
        and placements.person_key = on_count_date.person_key
        and placements.placement_start <= on_count_date.count_date
        and {{ open_end('placements.placement_end') }} >= on_count_date.count_date
    where on_count_date.status = 'PALVELU'

),

-- For the placement p covering d: an earlier placement ended on e with
-- p.start - gap <= e < p.start, and e > d - look-back.
service_after_service as (

    select distinct
        current_placement.as_of_month,
        current_placement.person_key
    from current_placement
    inner join placements as earlier
        on earlier.as_of_month = current_placement.as_of_month
        and earlier.person_key = current_placement.person_key
        and earlier.placement_end < current_placement.placement_start
        and earlier.placement_end >= {{ add_months('current_placement.placement_start', -var('service_gap_months')) }}
        and earlier.placement_end > {{ add_months('current_placement.count_date', -var('service_lookback_months')) }}

),

states as (

    select
        on_count_date.as_of_month as month,
        on_count_date.count_date,
        on_count_date.person_key,
        on_count_date.sex,
        on_count_date.birth_date,
        on_count_date.municipality_code,
        on_count_date.status,
        on_count_date.service,
        extract(year from on_count_date.count_date) - extract(year from on_count_date.birth_date)
            - case
                when extract(month from on_count_date.count_date) < extract(month from on_count_date.birth_date)
                    or (extract(month from on_count_date.count_date) = extract(month from on_count_date.birth_date)
                        and extract(day from on_count_date.count_date) < extract(day from on_count_date.birth_date))
                then 1 else 0
            end as age_on_count_date,
        on_count_date.status in ('TYOTON', 'LOMAUTETTU') as is_unemployed,
        on_count_date.status = 'PALVELU' as is_in_services,
        unemployment.run_start,
        coalesce(unemployment.unemployed_days_in_window, 0) as unemployed_days_in_window,
        recent_placement_end.person_key is not null as has_recent_placement_end,
        service_after_service.person_key is not null as has_service_after_service
    from on_count_date
    left join unemployment
        on unemployment.as_of_month = on_count_date.as_of_month
        and unemployment.person_key = on_count_date.person_key
    left join recent_placement_end
        on recent_placement_end.as_of_month = on_count_date.as_of_month
        and recent_placement_end.person_key = on_count_date.person_key
    left join service_after_service
        on service_after_service.as_of_month = on_count_date.as_of_month
        and service_after_service.person_key = on_count_date.person_key

),

long_term as (

    select
        *,
        is_unemployed
            and run_start <= {{ add_months(add_days('count_date', 1), -var('long_term_months')) }}
            as is_long_term_unemployed
    from states

),

equivalent as (

    select
        *,
        is_unemployed
            and not is_long_term_unemployed
            and unemployed_days_in_window >= {{ var('equivalent_min_days') }}
            as is_equivalent_long_term_unemployed
    from long_term

),

final as (

    select
        month,
        count_date,
        person_key,
        sex,
        age_on_count_date,
        municipality_code,
        status,
        service,
        run_start,
        unemployed_days_in_window,
        is_unemployed,
        is_long_term_unemployed,
        is_equivalent_long_term_unemployed,
        is_unemployed
            and not is_long_term_unemployed
            and not is_equivalent_long_term_unemployed
            and has_recent_placement_end
            as is_returned_from_services,
        is_in_services and has_service_after_service as is_service_to_service,
        is_unemployed and age_on_count_date < {{ var('youth_age_limit') }} as is_youth_unemployed,
        status = 'LOMAUTETTU' as is_laid_off,
        is_in_services
    from equivalent

)

select * from final
