-- Service placements (docs/definitions.md): maximal stretches of touching PALVELU spells with the
-- same palvelu. A move to another municipality splits a spell but not the placement.
-- A placement still open has no end (placement_end is null).
with service_spells as (

    select
        as_of_month,
        person_key,
        service,
        spell_start,
        {{ open_end('spell_end') }} as spell_end_or_open
    from {{ ref('int_spells_as_of_delivery') }}
    where status = 'PALVELU'

),

with_previous as (

    select
        *,
        lag(service) over (
            partition by as_of_month, person_key order by spell_start, spell_end_or_open
        ) as previous_service,
        lag(spell_end_or_open) over (
            partition by as_of_month, person_key order by spell_start, spell_end_or_open
        ) as previous_end
    from service_spells

),

numbered as (

    select
        *,
        sum(
            case
                when previous_end is null then 1
                when service <> previous_service then 1
                when spell_start <> {{ add_days('previous_end', 1) }} then 1
                else 0
            end
        ) over (
            partition by as_of_month, person_key
            order by spell_start, spell_end_or_open
            rows between unbounded preceding and current row
        ) as placement_number
    from with_previous

),

final as (

    select
        as_of_month,
        person_key,
        placement_number,
        min(service) as service,
        min(spell_start) as placement_start,
        nullif(max(spell_end_or_open), cast('9999-12-31' as date)) as placement_end
    from numbered
    group by as_of_month, person_key, placement_number

)

select as_of_month, person_key, placement_number, service, placement_start, placement_end from final
