"""The synthetic sample generator (pipelines.sample): contracts of its landing files.

Most tests share two generated samples of two years (one clean, one with every fault), so the
module runs in seconds. Each test names the property of the source contracts or definitions (docs/) it protects.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.cli.sample_command import add_sample_parser
from pipelines.core.identity_codes import CHECK_CHARACTERS, validate
from pipelines.sample import SampleOptions, generate_sample
from pipelines.sample.dates import date_to_day, parse_month
from pipelines.sample.geography import (
    CSV_PATH,
    finland_geography,
    municipalities_csv_text,
)
from pipelines.sample.identity import allocate_codes, format_codes
from pipelines.sample.landing import JOBSEEKER_COLUMNS, KELA_COLUMNS

# Two years that include 2010, when self-motivated study on benefit (OMAEHTOINEN_OPISKELU) began.
START, END, SEED = "2009-01", "2010-12", 7
MONTHS = [f"{year}-{month:02d}" for year in (2009, 2010) for month in range(1, 13)]
ALL_FAULTS = frozenset({"cp1252", "missing_column", "invalid_hetu", "overlapping_spells", "redelivery"})
HETU = re.compile(r"^(\d{2})(\d{2})(\d{2})([-A])(\d{3})([0-9A-Y])$")


# --- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("clean")
    return out, generate_sample(out, start=START, end=END, seed=SEED)


@pytest.fixture(scope="module")
def faulty(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("faulty")
    return out, generate_sample(out, start=START, end=END, seed=SEED, faults=ALL_FAULTS)


def read(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding=encoding)


@pytest.fixture(scope="module")
def deliveries(clean) -> pd.DataFrame:
    out, _ = clean
    frames = []
    for month in MONTHS:
        frame = read(out / "tyonhakijat" / f"tyonhakijat_{month}.csv")
        frame["delivery"] = month
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def payments(clean) -> pd.DataFrame:
    out, _ = clean
    frames = []
    for month in MONTHS:
        frame = read(out / "kela" / f"tmt_{month}.csv")
        frame["file_month"] = month
        frame["line"] = np.arange(len(frame))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def month_bounds(month: str) -> tuple[str, str]:
    first = dt.date.fromisoformat(month + "-01")
    following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first.isoformat(), (following - dt.timedelta(days=1)).isoformat()


def overlapping_persons(frame: pd.DataFrame) -> set[str]:
    """Persons with two spells sharing a day, in one delivery."""
    ordered = frame.assign(end=frame["loppupvm"].replace("", "9999-12-31")).sort_values(["henkilotunnus", "alkupvm"])
    same = ordered["henkilotunnus"].eq(ordered["henkilotunnus"].shift())
    previous_end = ordered["end"].shift()
    return set(ordered.loc[same & (ordered["alkupvm"] <= previous_end), "henkilotunnus"])


# --- files and format -------------------------------------------------------------------


def test_writes_every_month_of_both_sources_and_a_readme(clean):
    out, summary = clean
    for month in MONTHS:
        assert (out / "tyonhakijat" / f"tyonhakijat_{month}.csv").is_file()
        assert (out / "kela" / f"tmt_{month}.csv").is_file()
    readme = (out / "README.txt").read_text(encoding="utf-8")
    assert "Synteettinen esimerkkiaineisto – ei todellisia henkilöitä" in readme
    assert f"--from {START} --to {END} --seed {SEED} --scale kainuu" in readme
    assert len(summary["files"]) == 2 * len(MONTHS) + 1
    assert summary["rows"]["tyonhakijat"] > 100_000 and summary["rows"]["kela"] > 50_000
    assert not list(out.rglob("*.partial"))


def test_headers_are_exactly_the_source_contract_and_lines_end_in_lf(clean):
    out, _ = clean
    jobseekers = (out / "tyonhakijat" / "tyonhakijat_2009-01.csv").read_bytes()
    kela = (out / "kela" / "tmt_2009-01.csv").read_bytes()
    assert jobseekers.split(b"\n", 1)[0].decode() == ";".join(JOBSEEKER_COLUMNS)
    assert kela.split(b"\n", 1)[0].decode() == ";".join(KELA_COLUMNS)
    for content in (jobseekers, kela):
        assert b"\r" not in content and content.endswith(b"\n") and not content.endswith(b"\n\n")
        content.decode("utf-8")


def test_values_are_iso_dates_codes_and_two_decimal_euros(deliveries, payments):
    assert deliveries["alkupvm"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert deliveries["loppupvm"].str.fullmatch(r"(\d{4}-\d{2}-\d{2})?").all()
    assert set(deliveries["tila"]) == {"TYOTON", "LOMAUTETTU", "LYHENNETTY", "PALVELU", "TYOLLINEN", "MUU"}
    in_service = deliveries["tila"] == "PALVELU"
    assert (deliveries.loc[in_service, "palvelu"] != "").all() and (deliveries.loc[~in_service, "palvelu"] == "").all()
    assert set(deliveries.loc[in_service, "palvelu"]) == {
        "PALKKATUKI", "TYOHARJOITTELU", "TYOKOKEILU", "TYOVOIMAKOULUTUS", "VALMENNUS",
        "VUOROTTELUSIJAINEN", "OMAEHTOINEN_OPISKELU", "KUNTOUTTAVA_TYOTOIMINTA",
    }
    kainuu = {"105", "205", "290", "578", "620", "697", "765", "777", "785"}
    assert set(deliveries["kuntanumero"]) == kainuu
    assert set(payments["kuntanumero"]) <= kainuu
    assert payments["maksettu_eur"].str.fullmatch(r"-?\d+\.\d{2}").all()
    assert payments["kuntaosuus_eur"].str.fullmatch(r"-?\d+\.\d{2}").all()
    assert (payments["maksukuukausi"] == payments["file_month"]).all()
    assert (payments["etuus"] == "TMT").all()
    days = payments["maksetut_paivat"].astype(int)
    assert days.between(0, 23).all()


# --- determinism ------------------------------------------------------------------------


def _file_bytes(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_same_arguments_give_byte_identical_files(tmp_path):
    first = generate_sample(tmp_path / "a", start="2008-01", end="2008-03", seed=11)
    second = generate_sample(tmp_path / "b", start="2008-01", end="2008-03", seed=11)
    assert first["files"] == second["files"]
    assert _file_bytes(tmp_path / "a") == _file_bytes(tmp_path / "b")
    generate_sample(tmp_path / "c", start="2008-01", end="2008-03", seed=12)
    other = _file_bytes(tmp_path / "c")
    name = "tyonhakijat/tyonhakijat_2008-01.csv"
    assert other[name] != _file_bytes(tmp_path / "a")[name]


# --- identity codes ---------------------------------------------------------------------


def test_identity_codes_are_valid_temporary_codes_of_people_aged_15_to_68(deliveries, payments):
    kela = payments.rename(columns={"file_month": "delivery"})
    codes = pd.concat([deliveries[["henkilotunnus", "delivery"]], kela[["henkilotunnus", "delivery"]]])
    parts = codes["henkilotunnus"].str.extract(HETU)
    assert parts.notna().all().all(), "every code has the structure DDMMYYCZZZQ"
    individual = parts[4].astype(int)
    assert individual.between(900, 999).all()
    for code in codes["henkilotunnus"].unique():
        assert validate(code) is None, code
    century = np.where(parts[3] == "A", 2000, 1900)
    birth = pd.to_datetime(
        pd.DataFrame(
            {"year": century + parts[2].astype(int), "month": parts[1].astype(int), "day": parts[0].astype(int)}
        )
    )
    delivery_year = codes["delivery"].str[:4].astype(int)
    age = delivery_year.to_numpy() - birth.dt.year.to_numpy()
    assert age.min() >= 15 and age.max() <= 69  # years since birth; completed years are 15..68


def test_check_character_and_sex_follow_the_rules():
    assert format_codes(np.array([date_to_day(dt.date(1952, 10, 13))]), np.array([308]))[0] == "131052-308T"
    assert format_codes(np.array([date_to_day(dt.date(2005, 1, 1))]), np.array([901]))[0][6] == "A"
    assert validate("131052-308U") is not None


def test_codes_stay_unique_when_a_birth_date_is_crowded():
    day = date_to_day(dt.date(1970, 6, 15))
    birth = np.full(230, day)
    male = np.r_[np.zeros(130, dtype=bool), np.ones(100, dtype=bool)]
    final_day, individual = allocate_codes(birth, male)
    pairs = set(zip(final_day.tolist(), individual.tolist()))
    assert len(pairs) == birth.size
    assert ((individual % 2 == 1) == male).all(), "odd individual number = male"
    assert individual.min() >= 900 and individual.max() <= 999
    assert np.abs(final_day - day).max() <= 2, "overflow moves to the nearest dates with free numbers"


def test_every_person_in_the_range_has_a_distinct_code():
    from pipelines.sample.generator import _register, build_simulation

    options = SampleOptions(start="2008-01", end="2008-06", seed=3)
    register = _register(build_simulation(options), options)
    codes = register.identity_codes[register.identity_codes != ""]
    assert len(set(codes.tolist())) == codes.size > 5000


def test_population_factor_multiplies_the_persons_in_the_same_municipalities():
    from pipelines.sample.generator import _register, build_simulation

    def delivered(population: float) -> tuple[int, set[str]]:
        options = SampleOptions(start="2008-01", end="2008-03", seed=3, population=population)
        register = _register(build_simulation(options), options)
        codes = register.identity_codes[register.identity_codes != ""]
        return codes.size, set(register.simulation.spells.municipality.tolist())

    (base, base_places), (triple, triple_places) = delivered(1.0), delivered(3.0)
    assert 2.7 < triple / base < 3.3
    assert triple_places == base_places, "a larger population stays in the scale's municipalities"


# --- jobseeker register semantics -------------------------------------------------------


def test_spells_of_one_person_never_overlap_within_a_delivery(deliveries):
    for _, frame in deliveries.groupby("delivery"):
        assert not overlapping_persons(frame)


def test_every_spell_in_file_m_overlaps_m_and_open_spells_started_by_its_end(deliveries):
    for month, frame in deliveries.groupby("delivery"):
        first, last = month_bounds(month)
        assert (frame["alkupvm"] <= last).all()
        closed = frame["loppupvm"] != ""
        assert (frame.loc[closed, "loppupvm"] >= first).all()
        assert (frame.loc[closed, "loppupvm"] <= last).all(), "an end after M is not known at delivery M"
        assert (frame.loc[closed, "loppupvm"] >= frame.loc[closed, "alkupvm"]).all()


def test_end_dates_appear_from_the_delivery_of_the_month_the_spell_ended(deliveries):
    order = {month: i for i, month in enumerate(MONTHS)}
    frame = deliveries.assign(position=deliveries["delivery"].map(order))
    stable = frame.groupby("jakso_id")[["henkilotunnus", "alkupvm", "tila", "palvelu", "kuntanumero"]].nunique()
    assert (stable == 1).all().all(), "a spell keeps its id and attributes in every delivery"
    spans = frame.groupby("jakso_id").agg(
        first=("position", "min"), last=("position", "max"), count=("position", "size"),
        start=("alkupvm", "first"), ends=("loppupvm", lambda v: sorted(set(v))),
    )
    assert (spans["count"] == spans["last"] - spans["first"] + 1).all(), "a spell is in every delivery it overlaps"
    last_rows = frame.sort_values("position").groupby("jakso_id").tail(1).set_index("jakso_id")
    not_last = frame.merge(spans[["last"]], left_on="jakso_id", right_index=True)
    assert (not_last.loc[not_last["position"] < not_last["last"], "loppupvm"] == "").all(), "open until it ends"
    ended = last_rows["loppupvm"] != ""
    assert (last_rows.loc[ended, "loppupvm"].str[:7] == last_rows.loc[ended, "delivery"]).all()
    assert (last_rows.loc[~ended, "delivery"] == MONTHS[-1]).all(), "a spell only leaves the deliveries by ending"
    first_month = spans["start"].str[:7].map(lambda m: order.get(m, 0) if m >= MONTHS[0] else 0)
    assert (spans["first"] == first_month).all(), "a spell appears from the month it started (or the range start)"


def test_register_has_the_dynamics_the_indicators_need(deliveries):
    statuses = deliveries.drop_duplicates("jakso_id")
    assert (statuses["alkupvm"] < "2005-01-01").any(), "warmed up: spells begun years before the first delivery"
    moves = statuses.sort_values(["henkilotunnus", "alkupvm"])
    touching_same_status = (
        moves["henkilotunnus"].eq(moves["henkilotunnus"].shift())
        & moves["tila"].eq(moves["tila"].shift())
        & moves["kuntanumero"].ne(moves["kuntanumero"].shift())
    )
    assert touching_same_status.sum() > 50, "moves between municipalities split spells"
    service_chain = moves["henkilotunnus"].eq(moves["henkilotunnus"].shift()) & moves["tila"].eq("PALVELU") & moves[
        "tila"
    ].shift().eq("PALVELU") & moves["palvelu"].ne(moves["palvelu"].shift())
    assert service_chain.sum() > 50, "service-to-service transitions"


# --- Kela payments ----------------------------------------------------------------------


def test_kela_counter_never_decreases_and_rises_by_the_days_paid(payments):
    frame = payments.sort_values(["henkilotunnus", "file_month", "line"])
    counter = frame["kertyneet_paivat"].astype(int)
    days = frame["maksetut_paivat"].astype(int)
    same = frame["henkilotunnus"].eq(frame["henkilotunnus"].shift())
    rise = counter - counter.shift()
    assert (rise[same] >= 0).all()
    assert (rise[same] == days[same]).all()
    assert (counter >= days).all()
    keys = frame[["henkilotunnus", "kuntanumero", "file_month"]]
    assert not keys.duplicated().any(), "one row per person, municipality and month"


def _expected_share(month: str, counter_before: int, paid: str) -> Decimal:
    year_month = parse_month(month)
    rate = Decimal(0)
    if parse_month("2006-01") <= year_month <= parse_month("2014-12") and counter_before >= 500:
        rate = Decimal("0.5")
    if parse_month("2015-01") <= year_month <= parse_month("2024-12"):
        rate = Decimal("0.7") if counter_before >= 1000 else Decimal("0.5") if counter_before >= 300 else Decimal(0)
    return (rate * Decimal(paid)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_municipal_share_follows_the_rule_by_payment_period(payments):
    counter_before = payments["kertyneet_paivat"].astype(int) - payments["maksetut_paivat"].astype(int)
    expected = [
        _expected_share(month, before, paid)
        for month, before, paid in zip(payments["maksukuukausi"], counter_before, payments["maksettu_eur"])
    ]
    invoiced = [Decimal(text) for text in payments["kuntaosuus_eur"]]
    assert invoiced == expected
    assert (payments["kuntaosuus_eur"].str.lstrip("-") != "0.00").any()


def test_share_rule_rounds_half_away_from_zero_at_the_thresholds():
    from pipelines.sample.kela import municipal_share_cents, municipal_share_percent

    months = np.array([parse_month(m) for m in ("2005-12", "2010-06", "2010-07", "2016-03", "2016-04", "2025-01")])
    before = np.array([900, 488, 510, 989, 1010, 2000])
    assert municipal_share_percent(months, before).tolist() == [0, 0, 50, 50, 70, 0]
    assert municipal_share_cents(np.array([2561, -2561]), np.array([50, 50])).tolist() == [1281, -1281]


def test_recoveries_are_rare_rows_without_days_and_with_negative_amounts(payments):
    recovery = payments["maksetut_paivat"] == "0"
    negative = payments["maksettu_eur"].str.startswith("-")
    assert (recovery == negative).all()
    assert 0 < recovery.mean() < 0.01
    share = payments.loc[recovery, "kuntaosuus_eur"]
    assert (share.str.startswith("-") | (share == "0.00")).all(), "a refund, or nothing below the threshold"


def test_paid_days_are_the_weekdays_of_unemployment_in_the_month(deliveries, payments):
    unemployed = deliveries[deliveries["tila"] == "TYOTON"].copy()
    for month in ("2009-06", "2010-11"):
        first, last = month_bounds(month)
        spells = unemployed[unemployed["delivery"] == month]
        low = np.maximum(spells["alkupvm"].to_numpy(dtype="datetime64[D]"), np.datetime64(first))
        end = spells["loppupvm"].replace("", last).to_numpy(dtype="datetime64[D]")
        weekdays = np.busday_count(low, np.minimum(end, np.datetime64(last)) + 1)
        expected = spells.assign(days=weekdays).groupby(["henkilotunnus", "kuntanumero"])["days"].sum()
        paid = payments[(payments["file_month"] == month) & (payments["maksetut_paivat"] != "0")]
        paid = paid.set_index(["henkilotunnus", "kuntanumero"])["maksetut_paivat"].astype(int)
        assert (expected.reindex(paid.index) == paid).all(), "Kela pays the Mon-Fri days of TYOTON spells"
        share = len(paid.index.get_level_values(0).unique()) / expected.index.get_level_values(0).nunique()
        assert 0.4 < share < 0.95, "a realistic share of the unemployed receive TMT"


# --- faults -----------------------------------------------------------------------------


def test_faults_leave_every_other_file_byte_identical(clean, faulty):
    clean_files, faulty_files = _file_bytes(clean[0]), _file_bytes(faulty[0])
    touched = {
        "tyonhakijat/tyonhakijat_2009-01.csv", "kela/tmt_2009-01.csv",  # cp1252
        "tyonhakijat/tyonhakijat_2009-02.csv",  # invalid_hetu
        "tyonhakijat/tyonhakijat_2009-03.csv",  # overlapping_spells
        "kela/tmt_2010-12.csv",  # missing_column
        "README.txt",
    }
    for name, content in clean_files.items():
        if name not in touched:
            assert faulty_files[name] == content, name
    assert set(faulty_files) - set(clean_files) == {"redelivery/tyonhakijat/tyonhakijat_2010-01.csv"}


def test_cp1252_fault_writes_the_same_values_the_legacy_way(clean, faulty):
    for relative in ("tyonhakijat/tyonhakijat_2009-01.csv", "kela/tmt_2009-01.csv"):
        raw = (faulty[0] / relative).read_bytes()
        assert raw.count(b"\r\n") == raw.count(b"\n") > 1
        legacy = read(faulty[0] / relative, encoding="cp1252")
        modern = read(clean[0] / relative)
        assert list(legacy.columns) == list(modern.columns)
        for column in ("alkupvm", "loppupvm"):
            if column in legacy:
                assert legacy[column].str.fullmatch(r"(\d{1,2}\.\d{1,2}\.\d{4})?").all()
                legacy[column] = legacy[column].map(
                    lambda text: "" if not text else dt.datetime.strptime(text, "%d.%m.%Y").date().isoformat()
                )
        for column in ("maksettu_eur", "kuntaosuus_eur"):
            if column in legacy:
                assert legacy[column].str.contains(",").all() and not legacy[column].str.contains(r"\.").any()
                legacy[column] = legacy[column].str.replace(",", ".")
        pd.testing.assert_frame_equal(legacy, modern)
        assert (legacy["kuntanumero"] == "697").any()


def test_missing_column_fault_drops_the_counter_from_the_last_kela_file(clean, faulty):
    broken = read(faulty[0] / "kela" / "tmt_2010-12.csv")
    assert "kertyneet_paivat" not in broken.columns
    pd.testing.assert_frame_equal(broken, read(clean[0] / "kela" / "tmt_2010-12.csv").drop(columns="kertyneet_paivat"))
    assert faulty[1]["faults"]["missing_column"]["file"] == "kela/tmt_2010-12.csv"


def test_invalid_hetu_fault_breaks_three_check_characters_in_the_second_month(clean, faulty):
    broken = read(faulty[0] / "tyonhakijat" / "tyonhakijat_2009-02.csv")
    original = read(clean[0] / "tyonhakijat" / "tyonhakijat_2009-02.csv")
    invalid = broken["henkilotunnus"].map(validate).notna()
    assert invalid.sum() == 3
    assert (broken.index[invalid] + 2).tolist() == faulty[1]["faults"]["invalid_hetu"]["data_lines"]
    assert (broken["henkilotunnus"].str[:-1] == original["henkilotunnus"].str[:-1]).all()
    assert broken["henkilotunnus"].str[-1].isin(list(CHECK_CHARACTERS)).all()
    pd.testing.assert_frame_equal(broken.drop(columns="henkilotunnus"), original.drop(columns="henkilotunnus"))


def test_overlapping_spells_fault_adds_one_overlapping_spell_in_the_third_month(clean, faulty):
    broken = read(faulty[0] / "tyonhakijat" / "tyonhakijat_2009-03.csv")
    original = read(clean[0] / "tyonhakijat" / "tyonhakijat_2009-03.csv")
    assert len(broken) == len(original) + 1
    detail = faulty[1]["faults"]["overlapping_spells"]
    extra = broken[broken["jakso_id"] == detail["extra_spell_id"]]
    assert len(extra) == 1 and detail["extra_spell_id"] not in set(original["jakso_id"])
    assert overlapping_persons(broken) == set(extra["henkilotunnus"])
    assert not overlapping_persons(original)
    chosen_line, extra_line = detail["data_lines"]
    chosen, added = broken.iloc[chosen_line - 2], broken.iloc[extra_line - 2]
    assert added["jakso_id"] == detail["extra_spell_id"] and added["henkilotunnus"] == chosen["henkilotunnus"]
    assert chosen["alkupvm"] <= added["alkupvm"] and added["loppupvm"] == chosen["loppupvm"], "inside one spell only"


def test_redelivery_fault_writes_a_changed_copy_of_the_middle_month(clean, faulty):
    detail = faulty[1]["faults"]["redelivery"]
    assert detail["replaces"] == "tyonhakijat/tyonhakijat_2010-01.csv"
    changed = read(faulty[0] / detail["file"])
    original = read(clean[0] / detail["replaces"])
    assert (changed["jakso_id"] == original["jakso_id"]).all()
    end_differs = changed["loppupvm"] != original["loppupvm"]
    status_differs = changed["tila"] != original["tila"]
    assert end_differs.sum() == 3 and status_differs.sum() == 3
    assert (changed.loc[end_differs, "loppupvm"] < original.loc[end_differs, "loppupvm"]).all()
    assert (changed.loc[end_differs, "loppupvm"] >= changed.loc[end_differs, "alkupvm"]).all()
    assert (changed.loc[end_differs, "loppupvm"] >= "2010-01-01").all()
    assert (original.loc[status_differs, "tila"] == "TYOTON").all()
    assert (changed.loc[status_differs, "tila"] == "MUU").all()
    assert not overlapping_persons(changed)


# --- options and command line -----------------------------------------------------------


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"start": "2008-13"}, "YYYY-MM"),
        ({"start": "2009-01", "end": "2008-12"}, "before it starts"),
        ({"scale": "sweden"}, "unknown scale"),
        ({"population": 0}, "population factor"),
        ({"faults": frozenset({"typo"})}, "unknown fault"),
        ({"start": "2008-01", "end": "2008-02", "faults": frozenset({"overlapping_spells"})}, "at least 3 months"),
    ],
)
def test_invalid_options_are_refused_with_a_clear_message(arguments, message):
    with pytest.raises(ValueError, match=message):
        SampleOptions(**arguments)


def test_cli_subcommand_writes_the_sample(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="kaira")
    add_sample_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["sample", "--out", str(tmp_path), "--from", "2008-01", "--to", "2008-01", "--seed", "5", "--fault", "cp1252"]
    )
    assert args.handler(args) == 0
    assert (tmp_path / "tyonhakijat" / "tyonhakijat_2008-01.csv").is_file()
    assert "--fault cp1252" in (tmp_path / "README.txt").read_text(encoding="utf-8")
    assert "wrote 1 months" in capsys.readouterr().out


def test_cli_writes_into_the_settings_landing_folder_without_out(tmp_path, monkeypatch):
    monkeypatch.setenv("KAIRA_LANDING_DIR", str(tmp_path / "landing"))
    parser = argparse.ArgumentParser(prog="kaira")
    add_sample_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sample", "--from", "2008-01", "--to", "2008-01"])
    assert args.handler(args) == 0
    assert (tmp_path / "landing" / "kela" / "tmt_2008-01.csv").is_file()


def test_cli_reports_bad_arguments_without_a_traceback(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="kaira")
    add_sample_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sample", "--out", str(tmp_path), "--from", "2009-01", "--to", "2008-01"])
    assert args.handler(args) == 2
    assert "before it starts" in capsys.readouterr().err


# --- national scale reference data ------------------------------------------------------


def test_exported_municipality_mapping_is_the_one_the_generator_uses():
    assert CSV_PATH.read_text(encoding="utf-8") == municipalities_csv_text(finland_geography())
    mapping = read(CSV_PATH)
    assert len(mapping) == 300 and mapping["municipality_code"].is_unique
    assert mapping["municipality_code"].str.fullmatch(r"\d{3}").all()
    assert mapping["region_code"].nunique() == 19
    kainuu = mapping[mapping["region_code"] == "MK18"]
    assert set(kainuu["municipality_code"]) == {"105", "205", "290", "578", "620", "697", "765", "777", "785"}
    others = mapping[mapping["region_code"] != "MK18"]
    assert others["municipality_name_fi"].str.startswith("Synteettinen kunta").all()
