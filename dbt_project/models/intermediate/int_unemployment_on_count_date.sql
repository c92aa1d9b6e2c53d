-- What the definitions (docs/definitions.md) take from a person's continuous unemployment
-- runs on the count date d of each delivered month: the start of the run that holds d, if
-- one does, and the unemployed days t with d - window < t <= d. A run is a maximal stretch
-- of consecutive days unemployed (TYOTON or LOMAUTETTU): spells that touch join one run
-- whatever their municipality or status; a gap of a day or more ends it.
--
-- Worked on intervals, never days, in one ordered pass over each person's spells (sorted
-- by start): a spell begins a new run when it starts more than a day after every earlier
-- spell has ended. The run holding d is then the last one begun by d, provided a spell
-- covers d; and each spell adds the days of the window that no earlier spell covered, so
-- the days of the runs are counted once even where two versions of a spell overlap.
with unemployed_spells as (

    select
        as_of_month,
        count_date,
        person_key,
        spell_start,
        {{ open_end('spell_end') }} as spell_end_or_open,
        {{ add_days(add_months('count_date', -var('equivalent_window_months')), 1) }} as window_start
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

spell_parts as (

    select
        as_of_month,
        person_key,
        spell_start <= count_date and spell_end_or_open >= count_date as covers_count_date,
        case
            when spell_start > count_date then null
            when previous_max_end is null then spell_start
            when spell_start > {{ add_days('previous_max_end', 1) }} then spell_start
        end as run_start_by_count_date,
        -- the window's days this spell adds: from the later of its start, the window's start
        -- and the day after the earlier spells' end, to the earlier of its end and d
        greatest(0, {{ dbt.datediff(
            "greatest(spell_start, window_start, " ~ add_days("coalesce(previous_max_end, cast('0001-01-01' as date))", 1) ~ ")",
            'least(spell_end_or_open, count_date)',
            'day') }} + 1) as new_days_in_window
    from with_previous_end

),

final as (

    select
        as_of_month,
        person_key,
        case when bool_or(covers_count_date) then max(run_start_by_count_date) end as run_start,
        sum(new_days_in_window) as unemployed_days_in_window
    from spell_parts
    group by as_of_month, person_key

)

select as_of_month, person_key, run_start, unemployed_days_in_window from final
