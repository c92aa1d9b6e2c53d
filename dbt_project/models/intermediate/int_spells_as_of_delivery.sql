-- The register as it stood at each delivered month M of the window, limited to the
-- spells that can matter for M's count date d: begun by d, and not ended before the
-- widest look-back window of the definitions (docs/definitions.md).
with months as (

    select month, count_date, lookback_complete
    from {{ ref('int_delivered_months') }}
    where {{ in_month_window('month') }}

),

window_months as (

    select min(month) as first_month, max(month) as last_month from months

),

versions as (

    select * from {{ ref('int_spell_versions') }}

),

-- Each version repeated once for each month of the window it stands for (delivery month
-- up to valid_until) and can matter in (from the month its spell began to the month its
-- end falls out of the look-back). An unnest of a month series: a range join of versions
-- to months cost more than the rest of the classification together at national scale.
version_months as (

    select
        cast(unnest(generate_series(
            greatest(
                versions.delivery_month,
                cast({{ dbt.date_trunc('month', 'versions.spell_start') }} as date),
                window_months.first_month
            ),
            least(
                coalesce({{ add_months('versions.valid_until', -1) }}, window_months.last_month),
                {{ add_months(dbt.date_trunc('month', 'coalesce(versions.spell_end, window_months.last_month)'),
                              rule_lookback_months()) }},
                window_months.last_month
            ),
            interval 1 month
        )) as date) as as_of_month,
        versions.person_id,
        versions.birth_date,
        versions.sex,
        versions.spell_id,
        versions.spell_start,
        versions.spell_end,
        versions.status,
        versions.service,
        versions.municipality_code
    from versions
    cross join window_months
    -- Versions valid in no month of the window give an empty series: leaving them out
    -- first spares building it for most of the look-back's versions.
    where versions.delivery_month <= window_months.last_month
        and (versions.valid_until is null or versions.valid_until > window_months.first_month)

),

-- The exact conditions; the series above only narrows the months to try.
relevant as (

    select
        version_months.as_of_month,
        months.count_date,
        {{ person_key('version_months.person_id') }} as person_key,
        version_months.birth_date,
        version_months.sex,
        version_months.spell_id,
        version_months.spell_start,
        version_months.spell_end,
        version_months.status,
        version_months.service,
        version_months.municipality_code
    from version_months
    inner join months on version_months.as_of_month = months.month
    where version_months.spell_start <= months.count_date
        and {{ open_end('version_months.spell_end') }}
        >= {{ add_months('months.count_date', -rule_lookback_months()) }}

),

final as (

    select * from relevant

)

select * from final
