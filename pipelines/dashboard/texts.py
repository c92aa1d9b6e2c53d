"""The dashboard's Finnish words: the report's translations where the report already says it
(indicator names, sexes, the symbols' meanings), the dashboard's own words here.

The status symbols are the reports' (pipelines.reports.render), so a reader sees the same
`..`, `:`, `.` and `*` in a report and on the dashboard.
"""

from __future__ import annotations

from functools import lru_cache

from pipelines.reports.formatting import format_count, format_eur, format_month, format_percent
from pipelines.reports.render import INCOMPLETE_MARK, SYMBOLS
from pipelines.reports.translations import Translator

TITLE = "Rakennetyöttömyyden seuranta"
SUBTITLE = "Kairan julkaistut, tietosuojatut luvut: työnhakijarekisteri ja Kelan työmarkkinatuki"
STATUS_WORDS = {
    "ok": "julkaistu",
    "incomplete": "vajaa tausta-aika",
    "suppressed": "salattu",
    "not_available": "ei saatavilla",
    "no_rule": "ei laskusääntöä",
    "missing": "ei julkaistu",
}
# The order of the legend: the four statuses of the contract that a reader can meet.
LEGEND_STATUSES = ("suppressed", "not_available", "no_rule", "incomplete")

MISSING_FILE = (
    "Julkaistuja taulukoita ei löydy tiedostosta {path}. Aja putki ensin (`kaira demo` tai "
    "`kaira run`): kojelauta näyttää vain tarkistetut ja julkaistut luvut."
)
EMPTY_FILE = (
    "Julkaistuissa taulukoissa ({path}) ei ole vielä yhtään kuukautta. Luvut näkyvät, kun "
    "ajo on laskenut ja julkaissut ensimmäisen kuukauden."
)
UNREADABLE_FILE = (
    "Julkaistua tiedostoa {path} ei voi lukea ({error}). Jos ajo on juuri julkaisemassa, "
    "lataa sivu hetken kuluttua uudelleen."
)


@lru_cache(maxsize=1)
def _t() -> Translator:
    return Translator("fi")


def indicator_name(code: str) -> str:
    try:
        return _t()(f"indicators.{code}.name")
    except KeyError:
        return code  # an indicator added to the contract after this dashboard: shown by its code


def sex_name(code: str) -> str:
    return _t()(f"sexes.{code}")


def reconciliation_status_name(code: str) -> str:
    return _t()(f"reconciliation_statuses.{code}")


def level_name(code: str) -> str:
    try:
        return _t()(f"area_levels.{code}")
    except KeyError:
        return code


def legend(threshold: int) -> list[tuple[str, str]]:
    """(symbol, meaning) of each status symbol, as the reports explain them."""
    rows = []
    for status in LEGEND_STATUSES:
        symbol = INCOMPLETE_MARK if status == "incomplete" else SYMBOLS[status]
        rows.append((symbol, _t()(f"symbols.{status}", threshold=threshold)))
    return rows


def is_euro(indicator: str) -> bool:
    return indicator.endswith("_eur")


def shown_value(value: float | None, status: str, indicator: str) -> str:
    """A published cell as the dashboard prints it: a withheld one as its symbol, an
    incomplete one with the asterisk."""
    if value is None or status in ("suppressed", "not_available", "no_rule"):
        return SYMBOLS.get(status, SYMBOLS["missing"])
    text = format_eur(value) if is_euro(indicator) else format_count(value)
    return text + (INCOMPLETE_MARK if status == "incomplete" else "")


def month_name(month) -> str:
    return format_month(month)


def percent(value: float) -> str:
    return format_percent(value)
