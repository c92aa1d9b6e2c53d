-- Continuous unemployment runs (docs/definitions.md): maximal stretches of consecutive days
-- unemployed (TYOTON or LOMAUTETTU). Spells that touch join one run whatever their
-- municipality or status; a gap of a day or more ends it. Worked on intervals, never days.
with unemployed_spells as (

    select
        as_of_month,
        person_key,
        spell_start,
        {{ open_end('spell_end') }} as spell_end_or_open
    from {{ ref('int_spells_as_of_delivery') }}
    where status in ('TYOTON', 'LOMAUTETTU')

),

with_previous_end as (

    select
        *,
        max(spell_end_or_open) over (
            partition by as_of_month, person_key
            order by spell_start, spell_end_or_open
            rows between unbounded preceding and 1 preceding
        ) as previous_max_end
    from unemployed_spells

),

numbered as (

    select
        *,
        sum(
            case
                when previous_max_end is null then 1
                when spell_start > {{ add_days('previous_max_end', 1) }} then 1
                else 0
            end
        ) over (
            partition by as_of_month, person_key
            order by spell_start, spell_end_or_open
            rows between unbounded preceding and current row
        ) as run_number
    from with_previous_end

),

final as (

    select
        as_of_month,
        person_key,
        run_number,
        min(spell_start) as run_start,
        max(spell_end_or_open) as run_end_or_open
    from numbered
    group by as_of_month, person_key, run_number

)

select as_of_month, person_key, run_number, run_start, run_end_or_open from final
