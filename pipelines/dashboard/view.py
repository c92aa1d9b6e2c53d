"""Which view the dashboard shows: an area, a sex and an indicator, chosen in the URL.

A link such as `/?area=MK18&indicator=structural_unemployed&sex=total` opens that view, so
reports and e-mails can point at it. A parameter that is missing falls back to the default
view; one that names nothing published falls back too and says so (in Finnish), rather than
showing an empty page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipelines.core.indicators import SEXES

DEFAULT_INDICATOR = "structural_unemployed"
DEFAULT_SEX = "total"
PARAMETERS = ("area", "indicator", "sex")


@dataclass(frozen=True)
class Area:
    code: str
    level: str  # country, region, municipality
    name: str


@dataclass(frozen=True)
class View:
    area: str
    indicator: str
    sex: str

    def query_params(self) -> dict[str, str]:
        """The URL parameters that link to this view."""
        return {"area": self.area, "indicator": self.indicator, "sex": self.sex}


@dataclass(frozen=True)
class ViewChoice:
    view: View
    notices: tuple[str, ...]  # Finnish: parameters that named nothing published


def _first(value) -> str | None:
    """A parameter's value; a repeated parameter (`?area=a&area=b`) counts by its last value,
    as Streamlit's `st.query_params[...]` reads it."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return str(value[-1]).strip() if value else None
    return str(value).strip()


def default_area(areas: Sequence[Area]) -> str:
    """The first region (the area scope's own), else the first area at all."""
    for area in areas:
        if area.level == "region":
            return area.code
    return areas[0].code


def choose_view(params: Mapping[str, object], areas: Sequence[Area], indicators: Sequence[str]) -> ViewChoice:
    """The view the parameters ask for, within what is published (`areas` and `indicators`
    must not be empty). Area codes are matched without regard to case (`mk18` is `MK18`)."""
    if not areas or not indicators:
        raise ValueError("nothing is published to choose a view from")
    notices: list[str] = []
    codes = {area.code.upper(): area.code for area in areas}

    area = default_area(areas)
    asked = _first(params.get("area"))
    if asked:
        if asked.upper() in codes:
            area = codes[asked.upper()]
        else:
            notices.append(f"Aluetta ”{asked}” ei ole julkaistu: näytetään oletusalue {area}.")

    indicator = DEFAULT_INDICATOR if DEFAULT_INDICATOR in indicators else indicators[0]
    asked = _first(params.get("indicator"))
    if asked:
        if asked in indicators:
            indicator = asked
        else:
            notices.append(f"Indikaattoria ”{asked}” ei ole julkaistu: näytetään oletusindikaattori.")

    sex = DEFAULT_SEX
    asked = _first(params.get("sex"))
    if asked:
        if asked in SEXES:
            sex = asked
        else:
            notices.append(f"Sukupuoli ”{asked}” on tuntematon (total, male tai female): näytetään kaikki.")
    return ViewChoice(View(area, indicator, sex), tuple(notices))
