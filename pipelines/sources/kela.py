"""Source 2, Kela's labour-market-subsidy payments: row validation (docs/source-contracts.md).

`validate_payments` turns the text rows of `kela/tmt_YYYY-MM.csv` into the columns of
`raw.kela_payments` and the rejects. A row is rejected, with every reason that applies,
when

- the identity code is invalid (or gives a birth date after the delivery month);
- any other column holds an identity code, in any form (the reason names the column,
  never the value: such a value would otherwise reach the raw table as it is);
- maksukuukausi is not the file's month (written `YYYY-MM`; `M.YYYY` or a date within
  the month, as Excel rewrites it, are read as that month);
- kuntanumero is not one to three digits (one or two digits get their leading zeros back);
- etuus is not TMT, PPR or APR;
- maksetut_paivat is not a whole number 0..23, kertyneet_paivat not a whole number >= 0;
- maksettu_eur or kuntaosuus_eur is not a decimal with at most two decimals ('.' or ','
  as the separator, negative allowed: a recovery or refund).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.core.identity_codes import Pseudonymiser
from pipelines.core.months import month_end, month_text, parse_month
from pipelines.core.register_codes import BENEFITS
from pipelines.core.source_registry import KELA_PAYMENTS
from pipelines.sources import values
from pipelines.sources.checks import (
    Problems,
    ValidatedDelivery,
    build_result,
    is_empty,
    person_columns,
    reject_identity_codes_outside_their_column,
    text_array,
    to_dates,
    to_euros,
)
from pipelines.sources.csv_reader import LandingFile

SOURCE = KELA_PAYMENTS.name

COLUMNS = (
    "henkilotunnus",
    "maksukuukausi",
    "kuntanumero",
    "etuus",
    "maksetut_paivat",
    "kertyneet_paivat",
    "maksettu_eur",
    "kuntaosuus_eur",
)

MAX_PAID_DAYS = 23

RAW_COLUMNS = (
    "delivery_month",
    "source_file",
    "source_line",
    "person_id",
    "birth_date",
    "sex",
    "payment_month",
    "municipality_code",
    "benefit",
    "paid_days",
    "cumulative_days",
    "paid_eur",
    "municipal_share_eur",
)


def validate_payments(landing: LandingFile, month: str | date, pseudonym_key: str | bytes | Pseudonymiser) -> ValidatedDelivery:
    first = parse_month(month)
    rows = landing.rows
    problems = Problems(len(rows))

    persons = person_columns(text_array(rows["henkilotunnus"]), pseudonym_key, problems, latest_birth=month_end(first))
    reject_identity_codes_outside_their_column(rows, problems)

    payment_month, bad_month = values.parse_months(rows["maksukuukausi"])
    problems.add(is_empty(text_array(rows["maksukuukausi"])), "maksukuukausi is missing")
    problems.add(bad_month, "maksukuukausi is not a month (YYYY-MM)")
    other_month = payment_month.notna().to_numpy() & (payment_month.to_numpy() != np.datetime64(first, "s"))
    problems.add(other_month, f"maksukuukausi is not the file's month {month_text(first)}")

    municipality, bad_municipality, padded = values.normalise_municipality_codes(rows["kuntanumero"])
    problems.add(is_empty(text_array(rows["kuntanumero"])), "kuntanumero is missing")
    problems.add(bad_municipality, "kuntanumero is not a three-digit municipality code")

    benefit = values.normalise_codes(text_array(rows["etuus"]))
    problems.add(is_empty(benefit), "etuus is missing")
    problems.add(
        ~is_empty(benefit) & ~np.asarray(pc.is_in(benefit, value_set=_BENEFITS), dtype=bool),
        "etuus is not one of " + ", ".join(BENEFITS),
    )

    paid_days, bad_paid_days = values.parse_integers(rows["maksetut_paivat"])
    problems.add(is_empty(text_array(rows["maksetut_paivat"])), "maksetut_paivat is missing")
    problems.add(
        bad_paid_days | (paid_days > MAX_PAID_DAYS).to_numpy(dtype=bool, na_value=False),
        f"maksetut_paivat is not a whole number 0..{MAX_PAID_DAYS}",
    )
    cumulative_days, bad_cumulative = values.parse_integers(rows["kertyneet_paivat"])
    problems.add(is_empty(text_array(rows["kertyneet_paivat"])), "kertyneet_paivat is missing")
    problems.add(bad_cumulative, "kertyneet_paivat is not a whole number >= 0")

    euros = {}
    for column in ("maksettu_eur", "kuntaosuus_eur"):
        amount, bad_amount = values.parse_decimals(rows[column])
        problems.add(is_empty(text_array(rows[column])), f"{column} is missing")
        problems.add(bad_amount, f"{column} is not a euro amount (e.g. -1234.50 or 1234,5)")
        euros[column] = amount

    keep = ~problems.rejected
    return build_result(
        source=SOURCE,
        landing=landing,
        delivery_month=first,
        problems=problems,
        columns={
            "source_line": rows["source_line"].to_numpy(dtype=np.int32),
            "person_id": persons.person_id,
            "birth_date": persons.birth_date,
            "sex": persons.sex,
            "payment_month": to_dates(payment_month),
            "municipality_code": text_array(municipality),
            "benefit": benefit,
            "paid_days": _whole_numbers(paid_days),
            "cumulative_days": _whole_numbers(cumulative_days),
            # amounts of rejected rows may be invalid; only the kept rows are converted
            "paid_eur": to_euros(euros["maksettu_eur"].where(keep)),
            "municipal_share_eur": to_euros(euros["kuntaosuus_eur"].where(keep)),
        },
        raw_columns=RAW_COLUMNS,
        padded=int((padded & keep).sum()),
    )


_BENEFITS = pa.array(BENEFITS, type=pa.large_string())


def _whole_numbers(values: pd.Series) -> np.ndarray:
    """Int64 with NA (rejected rows) -> int32, the NA as 0 (those rows are not loaded)."""
    return values.fillna(0).to_numpy(dtype=np.int32)
