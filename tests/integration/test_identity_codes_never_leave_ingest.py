"""Identity codes planted in landing files never leave ingest, in any form.

The synthetic sample for three months, with codes planted where they once escaped: as the
name of an extra column (lower case), as a jakso_id, in a row with the wrong field count,
without their century sign in an amount column, and as the first row of a Kela file that
lost its header line (with a space for the sign). Then `kaira run`, for real, in processes
of its own and a Dagster instance of the test's own: the first two months, which must
publish, then the third, which fails on the header-less file. Then every place a text can
reach is read and searched for every planted code in every form (with its sign, without
it, with a space for it; upper and lower case): each table of the working warehouse and the
published file (every column as text), the Parquet files, every file under the warehouse
folder (run logs, alerts, validation reports, dbt's files), the quarantine's reason files
(the quarantined copies of the delivered files are the one exception), the reports folder,
every file of Dagster's storage (run and event-log databases, compute logs, read as
bytes), and what `kaira run` printed. The sample's own identity codes are looked for too.

Protects: the whole of issue 10's first "done when"; the failed file is named in the
alert and in `kaira run`'s last line.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.core.identity_codes import make_identity_code
from pipelines.core.settings import load_settings
from pipelines.sample import generate_sample
from tests.helpers import environment

pytestmark = pytest.mark.e2e

REPO = Path(__file__).parents[2]
GOOD_MONTHS = ("2008-01", "2008-02")
HEADERLESS_MONTH = "2008-03"
REFUSED_FILE = f"kela/tmt_{HEADERLESS_MONTH}.csv"


def _code_with_digit_check(year: int, month: int, individual: int) -> str:
    """A code whose sign-less form is ten digits, born on the 20th-28th (a ten-digit
    number starting 20-28 with a month 01-12 is no Unix time of this century)."""
    for day in range(20, 29):
        code = make_identity_code(date(year, month, day), individual)
        if code[-1].isdigit():
            return code
    raise AssertionError("no such code")


# Synthetic codes only: individual numbers 900-999.
PLANTED = {
    "extra column name": make_identity_code(date(1985, 6, 15), 908),
    "jakso_id": make_identity_code(date(1972, 11, 3), 931),
    "malformed row": make_identity_code(date(1990, 2, 20), 944),
    "sign-less amount": _code_with_digit_check(1966, 4, 962),
    "header-less first row": make_identity_code(date(1979, 9, 24), 917),
}


def forms(code: str) -> set[str]:
    """Every way a code may be written: with its sign, without it, with a space for it; any case."""
    written = {code, code[:6] + code[7:], code[:6] + " " + code[7:]}
    return {f(w) for w in written for f in (str.upper, str.lower)}


def signless(code: str) -> str:
    return code[:6] + code[7:]


# --- planting ----------------------------------------------------------------------------


def rewrite(path: Path, edit) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")


def plant(landing: Path) -> None:
    first, second = GOOD_MONTHS
    code = PLANTED

    def extra_column_and_jakso_id(lines):  # tyonhakijat, first month
        header, rows = lines[0], lines[1:]
        rows = [f"{row};x" for row in rows]
        fields = rows[10].split(";")
        fields[1] = code["jakso_id"]
        rows[10] = ";".join(fields)
        return [f"{header};{code['extra column name'].lower()}", *rows]

    def malformed_row(lines):  # tyonhakijat, second month
        return [*lines[:20], f"{code['malformed row']};J-malformed;{second}-01", *lines[20:]]

    def signless_amount(lines):  # kela, second month: ten digits would even parse as euros
        fields = lines[5].split(";")
        fields[6] = signless(code["sign-less amount"])
        return [*lines[:5], ";".join(fields), *lines[6:]]

    def header_less(lines):  # kela, third month: the header line lost, a space for the sign
        fields = lines[1].split(";")
        planted = code["header-less first row"]
        fields[0] = f"{planted[:6]} {planted[7:].lower()}"
        return [";".join(fields), *lines[2:]]

    rewrite(landing / f"tyonhakijat/tyonhakijat_{first}.csv", extra_column_and_jakso_id)
    rewrite(landing / f"tyonhakijat/tyonhakijat_{second}.csv", malformed_row)
    rewrite(landing / f"kela/tmt_{second}.csv", signless_amount)
    rewrite(landing / REFUSED_FILE, header_less)


def sample_codes(landing: Path) -> set[str]:
    """The sample's own codes as delivered (before planting), sign-less and upper case."""
    codes = set()
    for path in landing.rglob("*.csv"):
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            codes.add(signless(line.split(";", 1)[0]).upper())
    return codes


# --- running ------------------------------------------------------------------------------


def kaira_run(env: dict[str, str], first: str, last: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli.main", "run", "--from", first, "--to", last],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=1800,
    )


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    values = environment(root)
    env = {**os.environ, **values}
    settings = load_settings(values)
    generate_sample(settings.landing_dir, start=GOOD_MONTHS[0], end=HEADERLESS_MONTH)
    codes = sample_codes(settings.landing_dir)
    plant(settings.landing_dir)
    good = kaira_run(env, *GOOD_MONTHS)
    bad = kaira_run(env, HEADERLESS_MONTH, HEADERLESS_MONTH)
    return settings, Path(values["DAGSTER_HOME"]), good, bad, codes


# --- searching ------------------------------------------------------------------------------


# Bounded, any form: candidates whose sign-less upper-case form is compared with the sample's codes.
_TOKEN = re.compile(rb"(?<![0-9A-Za-z])([0-9]{6})[-+A-Za-z ]?([0-9]{3}[0-9A-Za-z])(?![0-9A-Za-z])")


class Findings:
    """What was searched (so the test cannot pass by searching nothing) and what was found."""

    def __init__(self, sample: set[str]):
        self.needles = {name: {f.lower().encode() for f in forms(code)} for name, code in PLANTED.items()}
        self.sample = sample
        self.found: list[str] = []
        self.places = 0

    def search(self, place: str, data: bytes) -> None:
        self.places += 1
        lowered = data.lower()
        for name, needles in self.needles.items():
            if any(needle in lowered for needle in needles):
                self.found.append(f"planted code ({name}) in {place}")
        for match in _TOKEN.finditer(data):
            if (match[1] + match[2]).decode().upper() in self.sample:
                self.found.append(f"a sample person's code in {place}")
                break

    def search_tables(self, database: Path) -> None:
        con = duckdb.connect(str(database), read_only=True)
        try:
            columns = con.execute(
                "select table_schema, table_name, column_name from information_schema.columns "
                "where table_catalog = current_database()"
            ).fetchall()
            assert columns, database
            for schema, table, column in columns:
                values = con.execute(
                    f'select distinct cast("{column}" as varchar) from "{schema}"."{table}"'
                ).fetchall()
                text = "\n".join(v for (v,) in values if v is not None)
                self.search(f"{database.name} {schema}.{table}.{column}", text.encode())
        finally:
            con.close()

    def search_parquet(self, folder: Path) -> int:
        """The values of every Parquet file (its bytes are searched with the folder's files)."""
        paths = sorted(folder.rglob("*.parquet"))
        con = duckdb.connect()
        try:
            for path in paths:
                rows = con.execute("select * from read_parquet(?)", [str(path)]).fetchall()
                self.search(f"{path} (values)", "\n".join(map(str, rows)).encode())
        finally:
            con.close()
        return len(paths)

    def search_files(self, folder: Path, *, skip=lambda path: False) -> int:
        searched = 0
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not skip(path):
                self.search(str(path), path.read_bytes())
                searched += 1
        return searched


def is_quarantined_copy(path: Path) -> bool:
    """The quarantine keeps the delivered file as it came (the codes in it included) beside
    its reason: only the reason, which is ingest's text, is searched."""
    return not path.name.endswith(".reason.txt")


# --- the test ----------------------------------------------------------------------------------


def test_the_planted_files_were_delivered_and_refused_as_expected(planted_run):
    settings, _, good, bad, _ = planted_run
    assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-3000:]
    assert bad.returncode == 1, bad.stdout[-3000:] + bad.stderr[-3000:]
    # The valid months are published.
    con = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        assert con.execute("select first_month, last_month from publication").fetchall() == [
            (date(2008, 1, 1), date(2008, 2, 1))
        ]
        assert con.execute("select count(distinct month) from indicators_monthly").fetchall() == [(2,)]
    finally:
        con.close()
    # Each plant was met by its rule.
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        reasons = {r for (r,) in con.execute("select reason from raw.rejects").fetchall()}
        ignored = con.execute(
            "select ignored_columns from raw.deliveries where source = 'jobseeker_spells' and delivery_month = '2008-01-01'"
        ).fetchall()
    finally:
        con.close()
    assert any(r.startswith("jakso_id holds an identity code") for r in reasons), reasons
    assert any(r.startswith("maksettu_eur holds an identity code") for r in reasons), reasons
    assert "row has 3 fields, the header has 7" in reasons
    assert ignored == [("1 unnamed/unsafe column",)]
    (reason,) = (settings.quarantine_dir / "kela_payments" / HEADERLESS_MONTH).glob("*.reason.txt")
    assert "the first line looks like data, not a header: the file has no header line (8 field(s)" in reason.read_text()


def test_the_refused_file_is_named_in_the_alert_and_in_the_last_line_of_kaira_run(planted_run):
    settings, _, _, bad, _ = planted_run
    (alert,) = (settings.warehouse_dir / "alerts").glob("*.txt")
    text = alert.read_text(encoding="utf-8")
    assert f"{REFUSED_FILE}, line 1: the first line looks like data, not a header" in text
    assert "months:      2008-03" in text
    last = bad.stderr.strip().splitlines()[-1]
    assert last.startswith("kaira: run ") and REFUSED_FILE in last, last
    assert f"alert: {alert}" in bad.stdout


def test_no_planted_code_in_any_form_and_no_sample_code_is_anywhere_outside_ingest(planted_run):
    settings, dagster_home, good, bad, sample = planted_run
    # Thousands of the sample's own codes are searched for too (the calibrated sample's three
    # months hold about 10,000 persons): a scan that found none of them proves something.
    assert len(sample) > 5_000 and not sample & {signless(c).upper() for c in PLANTED.values()}
    findings = Findings(sample)

    # The search finds what it looks for: the quarantined copy holds the planted code.
    (copy,) = (settings.quarantine_dir / "kela_payments" / HEADERLESS_MONTH).glob("*_tmt_2008-03.csv")
    canary = Findings(sample)
    canary.search("the quarantined copy", copy.read_bytes())
    assert "planted code (header-less first row) in the quarantined copy" in canary.found
    assert "a sample person's code in the quarantined copy" in canary.found

    findings.search_tables(settings.warehouse_path)
    findings.search_tables(settings.published_path)
    parquet_files = findings.search_parquet(settings.published_parquet_dir)
    warehouse_files = findings.search_files(settings.warehouse_dir)
    reasons = findings.search_files(settings.quarantine_dir, skip=is_quarantined_copy)
    reports = findings.search_files(settings.reports_dir)
    dagster_files = findings.search_files(dagster_home)
    for name, process in (("first", good), ("second", bad)):
        findings.search(f"what the {name} kaira run printed", (process.stdout + process.stderr).encode())

    # Everything that should be there was searched.
    assert list(settings.warehouse_dir.glob("logs/kaira-run-*.log")) and list(settings.warehouse_dir.glob("alerts/*.txt"))
    assert parquet_files >= 3
    assert reasons == 1 and reports > 0 and warehouse_files > 5
    assert list(dagster_home.rglob("*.db")), "Dagster's run and event-log storage"
    assert list(dagster_home.glob("storage/**/*.err")) or list(dagster_home.glob("storage/**/*.out")), "compute logs"
    assert dagster_files > 3 and findings.places > 100

    assert not findings.found, "\n".join(findings.found[:50])
