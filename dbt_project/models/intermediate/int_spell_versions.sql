-- Each delivered version of a spell, with the range of deliveries ("as of" months) for
-- which it is the spell's state in the register (docs/source-contracts.md, point in time):
--   * delivery M is authoritative for the spells that overlap M;
--   * a spell that ended earlier comes from the latest earlier delivery that holds it;
--   * a spell that the next delivery should have held (it was open, or ended in that
--     month or later) but does not hold has been deleted from that delivery on.
-- A version is valid for as-of months in [delivery_month, valid_until) (null: open).
--
-- So a version whose spell was open at the next delivery is valid until that delivery,
-- whether the delivery holds it again or has deleted it. Only a version whose spell had
-- ended before the next delivery can stand longer: until a later delivery holds the spell
-- again. Those are the only rows that look further ahead (a join to the later deliveries
-- of their spells), instead of a window over every version of every spell, which cost
-- most of the classification at national scale.
-- Each CTE below is read once: DuckDB materialises a CTE that is read twice, and writing
-- out every version of the look-back cost more than reading the table again.
with spells as (

    select * from {{ ref('stg_register__jobseeker_spells') }}
    -- Only deliveries that can hold a spell relevant to a month of the window.
    where {{ in_deliveries_for_window('delivery_month') }}

),

delivered_months as (

    select month, next_delivered_month from {{ ref('int_delivered_months') }}

),

with_next_delivery as (

    select
        spells.*,
        delivered_months.next_delivered_month
    from spells
    inner join delivered_months on spells.delivery_month = delivered_months.month

),

ended_before_next_delivery as (

    select
        ended.spell_id,
        ended.delivery_month
    from {{ ref('stg_register__jobseeker_spells') }} as ended
    inner join {{ ref('int_delivered_months') }} as delivered on ended.delivery_month = delivered.month
    where {{ in_deliveries_for_window('ended.delivery_month') }}
        and {{ open_end('ended.spell_end') }} < delivered.next_delivered_month

),

-- The first later delivery holding the spell again, for the versions above (none: the
-- version stands from now on).
next_holding as (

    select
        ended.spell_id,
        ended.delivery_month,
        min(later.delivery_month) as next_holding_delivery
    from ended_before_next_delivery as ended
    inner join {{ ref('stg_register__jobseeker_spells') }} as later
        on ended.spell_id = later.spell_id
        and later.delivery_month > ended.delivery_month
    where {{ in_deliveries_for_window('later.delivery_month') }}
    group by ended.spell_id, ended.delivery_month

),

final as (

    select
        with_next_delivery.delivery_month,
        case
            -- the latest delivery there is: valid from now on
            when with_next_delivery.next_delivered_month is null then null
            -- open at the next delivery: held again there, or deleted there
            when {{ open_end('with_next_delivery.spell_end') }} >= with_next_delivery.next_delivered_month
                then with_next_delivery.next_delivered_month
            -- ended before the next delivery: stays as it was until a later delivery holds it
            else next_holding.next_holding_delivery
        end as valid_until,
        -- The pseudonym, not its integer key: the key is computed for the versions that
        -- matter (int_spells_as_of_delivery), a fraction of the look-back's.
        with_next_delivery.person_id,
        with_next_delivery.birth_date,
        with_next_delivery.sex,
        with_next_delivery.spell_id,
        with_next_delivery.spell_start,
        with_next_delivery.spell_end,
        with_next_delivery.status,
        with_next_delivery.service,
        with_next_delivery.municipality_code
    from with_next_delivery
    left join next_holding
        on with_next_delivery.spell_id = next_holding.spell_id
        and with_next_delivery.delivery_month = next_holding.delivery_month

)

select * from final
