-- Each delivered version of a spell, with the range of deliveries ("as of" months) for
-- which it is the spell's state in the register (docs/source-contracts.md, point in time):
--   * delivery M is authoritative for the spells that overlap M;
--   * a spell that ended earlier comes from the latest earlier delivery that holds it;
--   * a spell that the next delivery should have held (it was open, or ended in that
--     month or later) but does not hold has been deleted from that delivery on.
-- A version is valid for as-of months in [delivery_month, valid_until) (null: open).
with spells as (

    select * from {{ ref('stg_register__jobseeker_spells') }}
    -- Only deliveries that can hold a spell relevant to a month of the window.
    where {{ in_deliveries_for_window('delivery_month') }}

),

delivered_months as (

    select month, next_delivered_month from {{ ref('int_delivered_months') }}

),

with_next as (

    select
        spells.*,
        lead(spells.delivery_month) over (
            partition by spells.spell_id order by spells.delivery_month
        ) as next_holding_delivery,
        delivered_months.next_delivered_month
    from spells
    inner join delivered_months on spells.delivery_month = delivered_months.month

),

final as (

    select
        delivery_month,
        case
            -- the latest delivery there is: valid from now on
            when next_delivered_month is null then null
            -- the next delivery holds it again: this version lasts until then
            when next_holding_delivery = next_delivered_month then next_holding_delivery
            -- the next delivery should have held it but does not: deleted there
            when {{ open_end('spell_end') }} >= next_delivered_month then next_delivered_month
            -- ended before the next delivery: stays as it was until a later delivery holds it
            else next_holding_delivery
        end as valid_until,
        person_key,
        birth_date,
        sex,
        spell_id,
        spell_start,
        spell_end,
        status,
        service,
        municipality_code
    from with_next

)

select * from final
