"""A twenty-year national landing folder for the history benchmark of issue 12.

The generator cannot simulate twenty national years in one go: its identity codes use only
the individual numbers 900-999 reserved for temporary codes (so no generated code is a
real person's), about 100 per birth date, and twenty years of the country's jobseekers
need more codes than that range holds. So this writes the generator's national sample
for 24 months (2005-01 .. 2006-12, about 1.2 million persons) and then repeats it nine
times, each copy shifted by a whole number of 24-month cycles: every date, file month and
payment month moves forward by 24 x k months (a 29 February that lands in a common year
becomes the 28th), spell ids get the cycle as a suffix, identity codes stay (the same
synthetic people live the period again, two years older each time), and Kela's day
counter (kertyneet_paivat) grows by 600 x k, more than 24 months of paid days, so that it
never decreases from one cycle to the next (the check kela_counter_never_decreases stops
a run whose counter goes back, as the first try of this history showed). The result covers
2005-01 .. 2024-12, 240 months of national-scale deliveries, with the synthetic marker.
It is a workload for the pipeline's time and memory, not a model of twenty years.

    .venv/bin/python bench/national_history.py /tmp/kaira-20y/landing
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import duckdb

FIRST, LAST = "2005-01", "2006-12"
CYCLES = 10
CYCLE_MONTHS = 24
# Kela's counter grows by at most 23 paid days a month: 600 a cycle keeps it rising.
COUNTER_STEP = 600


def shifted_month(month: str, months: int) -> str:
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1 + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _copy(con, source: Path, target: Path, select: str) -> None:
    partial = target.with_name(f".{target.name}.partial")
    con.execute(
        f"copy ({select.format(source=str(source).replace(chr(39), chr(39) * 2))}) "
        f"to '{str(partial).replace(chr(39), chr(39) * 2)}' (header, delimiter ';', quote '')"
    )
    partial.chmod(0o600)
    partial.rename(target)


def write_history(landing: Path) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from pipelines.sample import generate_sample

    began = time.monotonic()
    summary_file = landing / ".national_history_base.json"
    if summary_file.exists():  # the 24 generated months are there: only the copies are (re)written
        summary = json.loads(summary_file.read_text())
    else:
        summary = generate_sample(landing, start=FIRST, end=LAST, scale="finland")
        summary_file.write_text(json.dumps({"rows": summary["rows"], "persons": summary["persons"]}))
    generated = time.monotonic() - began
    con = duckdb.connect()
    rows = dict(summary["rows"])
    for cycle in range(1, CYCLES):
        shift = cycle * CYCLE_MONTHS
        for month_number in range(CYCLE_MONTHS):
            month = shifted_month(FIRST, month_number)
            new_month = shifted_month(month, shift)
            date = "cast(cast({column} as date) + interval " + str(shift) + " month as date)"
            _copy(
                con,
                landing / "tyonhakijat" / f"tyonhakijat_{month}.csv",
                landing / "tyonhakijat" / f"tyonhakijat_{new_month}.csv",
                "select henkilotunnus, jakso_id || '-" + str(cycle) + "' as jakso_id, "
                + date.format(column="alkupvm") + " as alkupvm, "
                + date.format(column="nullif(loppupvm, '')") + " as loppupvm, tila, palvelu, kuntanumero "
                "from read_csv('{source}', delim = ';', header = true, all_varchar = true)",
            )
            _copy(
                con,
                landing / "kela" / f"tmt_{month}.csv",
                landing / "kela" / f"tmt_{new_month}.csv",
                "select henkilotunnus, strftime(cast(maksukuukausi || '-01' as date) + interval " + str(shift)
                + " month, '%Y-%m') as maksukuukausi, kuntanumero, etuus, maksetut_paivat, "
                + f"cast(kertyneet_paivat as integer) + {COUNTER_STEP * cycle} as kertyneet_paivat, "
                "maksettu_eur, kuntaosuus_eur from read_csv('{source}', delim = ';', header = true, all_varchar = true)",
            )
        for source in rows:
            rows[source] += summary["rows"][source]
    return {"generated_s": round(generated, 1), "total_s": round(time.monotonic() - began, 1), "rows": rows,
            "persons": summary["persons"], "months": CYCLES * CYCLE_MONTHS}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("landing", help="the landing folder to write (its tyonhakijat/ and kela/)")
    args = parser.parse_args(argv)
    print(write_history(Path(args.landing)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
