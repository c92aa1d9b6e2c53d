-- The register as it stood at each delivered month M of the window, limited to the
-- spells that can matter for M's count date: begun by the count date, and not ended
-- before the widest look-back window of the definitions (docs/definitions.md).
with months as (

    select month, count_date, lookback_complete
    from {{ ref('int_delivered_months') }}
    where {{ in_month_window('month') }}

),

versions as (

    select * from {{ ref('int_spell_versions') }}

),

final as (

    select
        months.month as as_of_month,
        months.count_date,
        versions.person_key,
        versions.birth_date,
        versions.sex,
        versions.spell_id,
        versions.spell_start,
        versions.spell_end,
        versions.status,
        versions.service,
        versions.municipality_code
    from months
    inner join versions
        on versions.delivery_month <= months.month
        and (versions.valid_until is null or versions.valid_until > months.month)
    where versions.spell_start <= months.count_date
        and {{ open_end('versions.spell_end') }} >= {{ add_months('months.count_date', -rule_lookback_months()) }}

)

select * from final
