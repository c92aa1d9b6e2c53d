"""The bench's own bare DuckDB derivation of the person indicators, and its check.

Written from docs/definitions.md, not from the dbt models: one set-based SQL script over
`read_csv` of the landing files, as an engineer would write it directly with duckdb, with
no ingest, no pseudonyms, no validation and no publishing. It is the yardstick of
bench_scale.py ("how long does the same arithmetic take bare?"), so it must compute the
same thing: `compare()` sets its counts against the warehouse's uncensored mart
`marts.fct_indicators_monthly` and names every cell that differs.

What it derives, per delivered month M of the range, area (municipality `KU###`, region
`MK##`, and `SSS` with scope `all`) and sex (`total`, `male`, `female`): unemployed,
long_term_unemployed, equivalent_long_term_unemployed, returned_from_services,
service_to_service, structural_unemployed, youth_unemployed, laid_off, in_services and,
when M-1 is in the range, structural_inflow. The Kela indicators are not person-register
indicators and are left out.

Reference data (municipalities and regions with validity dates, public holidays) is read
from the dbt project's seed files: they are inputs, like the landing files.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SEEDS = REPO_ROOT / "dbt_project" / "seeds"

# docs/definitions.md, "Parameters": the defaults of the dbt vars.
LONG_TERM_MONTHS = 12
EQUIVALENT_WINDOW_MONTHS = 16
EQUIVALENT_MIN_DAYS = 365
RETURN_WINDOW_MONTHS = 3
SERVICE_GAP_MONTHS = 3
SERVICE_LOOKBACK_MONTHS = 12
YOUTH_AGE_LIMIT = 25

INDICATORS = (
    "unemployed",
    "long_term_unemployed",
    "equivalent_long_term_unemployed",
    "returned_from_services",
    "service_to_service",
    "structural_unemployed",
    "youth_unemployed",
    "laid_off",
    "in_services",
    "structural_inflow",
)


def window_files(landing: Path, first: str, last: str) -> list[Path]:
    """The jobseeker files months first..last need: deliveries first - 16 months .. last
    (a month's figures reach back at most 16 months, docs/definitions.md)."""
    year, month = map(int, first.split("-"))
    index = year * 12 + month - 1 - EQUIVALENT_WINDOW_MONTHS
    earliest = f"{index // 12:04d}-{index % 12 + 1:02d}"
    paths = sorted(Path(landing, "tyonhakijat").glob("tyonhakijat_????-??.csv"))
    return [path for path in paths if earliest <= path.stem.removeprefix("tyonhakijat_") <= last]


def _sql(landing: Path, first: str, last: str, scope: str, municipality_set: str) -> str:
    municipalities = SEEDS / ("synthetic_municipalities.csv" if municipality_set == "synthetic" else "municipalities.csv")
    regions = [code.strip() for code in scope.split(",")] if scope != "all" else []
    in_scope = "true" if scope == "all" else "region_code in (" + ", ".join(f"'{r}'" for r in regions) + ")"
    sss = "union all select month, person, sex, 'SSS' as area_code, flags from in_area" if scope == "all" else ""
    files = ", ".join(f"'{path}'" for path in window_files(landing, first, last))
    indicator_columns = ",\n        ".join(f"count(*) filter (where {name}) as {name}" for name in INDICATORS)
    return f"""
-- Every file of the jobseeker register; its delivery month is in its name.
create temp table spells as
select
    cast(regexp_extract(filename, '(\\d{{4}}-\\d{{2}})\\.csv$', 1) || '-01' as date) as delivery,
    henkilotunnus as person, jakso_id as spell_id, alkupvm as start_day, loppupvm as end_day,
    tila, palvelu, kuntanumero
from read_csv([{files}], delim = ';', header = true, filename = true,
    columns = {{'henkilotunnus': 'VARCHAR', 'jakso_id': 'VARCHAR', 'alkupvm': 'DATE', 'loppupvm': 'DATE',
               'tila': 'VARCHAR', 'palvelu': 'VARCHAR', 'kuntanumero': 'VARCHAR'}});

create temp table months as
with deliveries as (select distinct delivery as month from spells),
days as (
    select cast(unnest(generate_series(min(month), max(month) + interval 1 month - interval 1 day,
                                       interval 1 day)) as date) as day
    from deliveries
),
holidays as (select holiday_date from read_csv('{SEEDS}/finnish_public_holidays.csv', header = true,
                                               columns = {{'holiday_date': 'DATE', 'holiday_name_fi': 'VARCHAR'}}))
select deliveries.month, max(days.day) as d
from deliveries
join days on date_trunc('month', days.day) = deliveries.month
where isodow(days.day) <= 5 and days.day not in (select holiday_date from holidays)
  and deliveries.month between date '{first}-01' and date '{last}-01'
group by deliveries.month;

-- Point in time: the version of a spell delivered in D stands for the months from D until
-- the next file that holds it; if the next file after D should have held it (it was open
-- or ended on or after that month began) and does not, it is deleted from that month on.
create temp table versions as
with delivered as (
    select month, lead(month) over (order by month) as next_month from (select distinct delivery as month from spells)
),
seen as (
    select spells.*, lead(delivery) over (partition by spell_id order by delivery) as next_seen, delivered.next_month
    from spells join delivered on delivered.month = spells.delivery
)
select *, case
        when next_month is null then date '9999-12-31'
        when next_seen = next_month then next_month
        when coalesce(end_day, date '9999-12-31') >= next_month then next_month
        else coalesce(next_seen, date '9999-12-31')
    end as valid_until
from seen;

-- The register as it stood at delivery M, cut to the spells that can matter on d: a spell
-- that ended on or before d - 16 months lies outside every window, and a run or placement
-- reaching back past that point began before d - 16 months anyway (so long-term either way,
-- and too early to be a service-to-service predecessor).
create temp table as_of as
select months.month, months.d, v.person, v.spell_id, v.start_day, v.end_day, v.tila, v.palvelu, v.kuntanumero
from months
join versions as v on v.delivery <= months.month and months.month < v.valid_until
where coalesce(v.end_day, date '9999-12-31') > months.d - interval {EQUIVALENT_WINDOW_MONTHS} month;

create temp table classified as
with covering as (  -- the spell that covers d: state, municipality
    select month, d, person, tila, palvelu, kuntanumero, start_day
    from as_of where start_day <= d and coalesce(end_day, d) >= d
),
unemployed_spells as (
    select month, d, person, start_day, end_day,
        case when start_day = lag(end_day) over w + 1 then 0 else 1 end as new_run
    from as_of where tila in ('TYOTON', 'LOMAUTETTU')
    window w as (partition by month, person order by start_day)
),
runs as (
    select *, sum(new_run) over (partition by month, person order by start_day) as run_no from unemployed_spells
),
run_on_d as (  -- the run that holds d, and when it began
    select month, person, min(start_day) as run_start
    from runs
    group by month, person, run_no
    having bool_or(start_day <= d and coalesce(end_day, d) >= d)
),
days_in_window as (  -- unemployed days t with d - 16 months < t <= d
    select month, person,
        sum(greatest(0, date_diff('day',
            greatest(start_day, cast(d - interval {EQUIVALENT_WINDOW_MONTHS} month + interval 1 day as date)),
            least(coalesce(end_day, d), d)) + 1)) as days
    from as_of where tila in ('TYOTON', 'LOMAUTETTU')
    group by month, person
),
service_spells as (
    select month, d, person, palvelu, start_day, end_day,
        case when start_day = lag(end_day) over w + 1 then 0 else 1 end as new_placement
    from as_of where tila = 'PALVELU'
    window w as (partition by month, person, palvelu order by start_day)
),
placements as (
    select month, d, person, min(start_day) as p_start,
        -- the end of its last spell; null while that spell is open
        arg_max(end_day, start_day) as p_end,
        bool_or(start_day <= d and coalesce(end_day, d) >= d) as covers_d
    from (select *, sum(new_placement) over (partition by month, person, palvelu order by start_day) as no
          from service_spells)
    group by month, d, person, palvelu, no
),
returned as (
    select distinct month, person from placements
    where p_end > d - interval {RETURN_WINDOW_MONTHS} month and p_end <= d
),
service_to_service as (
    select distinct p.month, p.person
    from placements as p
    join placements as q on q.month = p.month and q.person = p.person
    where p.covers_d and not q.covers_d
      and q.p_end >= p.p_start - interval {SERVICE_GAP_MONTHS} month and q.p_end < p.p_start
      and q.p_end > p.d - interval {SERVICE_LOOKBACK_MONTHS} month
),
flagged as (
    select c.month, c.d, c.person, c.kuntanumero, c.tila,
        c.tila in ('TYOTON', 'LOMAUTETTU') as u,
        c.tila = 'PALVELU' as s,
        r.run_start <= c.d + interval 1 day - interval {LONG_TERM_MONTHS} month as long_run,
        coalesce(w.days, 0) >= {EQUIVALENT_MIN_DAYS} as enough_days,
        ret.person is not null as has_return,
        s2s.person is not null as has_s2s
    from covering as c
    left join run_on_d as r using (month, person)
    left join days_in_window as w using (month, person)
    left join returned as ret using (month, person)
    left join service_to_service as s2s using (month, person)
),
born as (
    select *,
        make_date(
            case substr(person, 7, 1) when '+' then 1800 when 'A' then 2000 when 'B' then 2000 when 'C' then 2000
                when 'D' then 2000 when 'E' then 2000 when 'F' then 2000 else 1900 end
                + cast(substr(person, 5, 2) as integer),
            cast(substr(person, 3, 2) as integer), cast(substr(person, 1, 2) as integer)) as birth,
        case when cast(substr(person, 8, 3) as integer) % 2 = 1 then 'male' else 'female' end as sex
    from flagged
)
select month, d, person, kuntanumero, sex,
    u as unemployed,
    u and long_run as long_term_unemployed,
    u and not long_run and enough_days as equivalent_long_term_unemployed,
    u and not long_run and not enough_days and has_return as returned_from_services,
    s and has_s2s as service_to_service,
    (u and (long_run or enough_days or has_return)) or (s and has_s2s) as structural_unemployed,
    u and year(d) - year(birth) - case when (month(d), day(d)) < (month(birth), day(birth)) then 1 else 0 end
        < {YOUTH_AGE_LIMIT} as youth_unemployed,
    tila = 'LOMAUTETTU' as laid_off,
    s as in_services
from born;

create temp table counts as
with municipalities as (
    select * from read_csv('{municipalities}', header = true, all_varchar = true)
),
with_inflow as (
    select c.*, c.structural_unemployed and not coalesce(p.structural_unemployed, false) as structural_inflow,
        exists (select 1 from months where months.month = c.month - interval 1 month) as previous_derived
    from classified as c
    left join classified as p on p.person = c.person and p.month = c.month - interval 1 month
),
in_area as (
    select w.month, w.person, w.sex, m.municipality_code, m.region_code,
        {{'unemployed': unemployed, 'long_term_unemployed': long_term_unemployed,
          'equivalent_long_term_unemployed': equivalent_long_term_unemployed,
          'returned_from_services': returned_from_services, 'service_to_service': service_to_service,
          'structural_unemployed': structural_unemployed, 'youth_unemployed': youth_unemployed,
          'laid_off': laid_off, 'in_services': in_services,
          'structural_inflow': case when previous_derived then structural_inflow end}} as flags
    from with_inflow as w
    join municipalities as m
        on m.municipality_code = w.kuntanumero
        and w.d between cast(m.valid_from as date) and cast(m.valid_to as date)
    where {in_scope}
),
areas as (
    select month, person, sex, 'KU' || municipality_code as area_code, flags from in_area
    union all select month, person, sex, region_code as area_code, flags from in_area
    {sss}
),
by_sex as (
    select month, sex, area_code, flags from areas
    union all select month, 'total' as sex, area_code, flags from areas
)
select month, area_code, sex,
        {indicator_columns.replace("where ", "where flags.")},
        bool_and(flags.structural_inflow is not null) as inflow_derived
from by_sex
group by all;
"""


def derive(landing: str, first: str, last: str, scope: str, municipality_set: str, out: str) -> dict:
    """Derive the months first..last (YYYY-MM) from every jobseeker file in `landing`; write
    the counts to the Parquet file `out` (month, area_code, sex, indicator, value)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(_sql(Path(landing), first, last, scope, municipality_set))
        con.execute(f"""
            copy (
                select month, area_code, sex, indicator, value from (
                    unpivot counts on {", ".join(INDICATORS)} into name indicator value value
                ) where indicator <> 'structural_inflow' or inflow_derived
            ) to '{out}' (format parquet)
        """)
        rows, persons = con.execute("select count(*), count(distinct person) from classified").fetchone()
        return {"person_months": rows, "persons": persons}
    finally:
        con.close()


def compare(reference_parquet: str, warehouse: str, first: str, last: str) -> dict:
    """Set the reference's counts against marts.fct_indicators_monthly (uncensored) for the
    months first..last and the indicators the reference derived. A cell the mart has and the
    reference does not is a count of nobody (0); a cell the reference has and the mart does
    not is a mismatch (an area the pipeline left out)."""
    import duckdb

    con = duckdb.connect(warehouse, read_only=True)
    try:
        names = ", ".join(f"'{name}'" for name in INDICATORS)
        con.execute(f"""
            create temp table compared as
            with reference as (select * from read_parquet('{reference_parquet}')),
            mart as (
                select month, area_code, sex, indicator, value
                from marts.fct_indicators_monthly
                where month between date '{first}-01' and date '{last}-01' and indicator in ({names})
                    and value is not null
            )
            select coalesce(mart.month, reference.month) as month,
                coalesce(mart.area_code, reference.area_code) as area_code,
                coalesce(mart.sex, reference.sex) as sex,
                coalesce(mart.indicator, reference.indicator) as indicator,
                mart.value as pipeline, coalesce(reference.value, 0) as reference
            from mart
            full join reference using (month, area_code, sex, indicator)
            -- structural_inflow only where both derived it (the reference skips a first month)
            where not (coalesce(mart.indicator, reference.indicator) = 'structural_inflow'
                       and (mart.value is null or reference.value is null))
        """)
        cells, mismatched = con.execute(
            "select count(*), count(*) filter (where pipeline is distinct from reference) from compared"
        ).fetchone()
        examples = con.execute("""
            select strftime(month, '%Y-%m'), area_code, sex, indicator, pipeline, reference
            from compared where pipeline is distinct from reference order by all limit 10
        """).fetchall()
        by_indicator = dict(con.execute(
            "select indicator, count(*) from compared group by 1 order by 1"
        ).fetchall())
        return {"cells": cells, "mismatched": mismatched, "examples": examples, "cells_by_indicator": by_indicator}
    finally:
        con.close()
