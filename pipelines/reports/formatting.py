"""Numbers, euros, percentages and months as a Finnish (or English) reader writes them.

Finnish: a no-break space between thousands (4 489), a decimal comma (27,8), a space before
the percent sign and after the euro amount (27,8 %, 896 637,37 €), and the minus sign U+2212.
Rounding is half away from zero, as in the published tables' euro arithmetic.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

NBSP = "\u00a0"
MINUS = "\u2212"
LANGUAGES = ("fi", "en")

_MONTHS = {
    "fi": (
        "tammikuu",
        "helmikuu",
        "maaliskuu",
        "huhtikuu",
        "toukokuu",
        "kesäkuu",
        "heinäkuu",
        "elokuu",
        "syyskuu",
        "lokakuu",
        "marraskuu",
        "joulukuu",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}: use one of {', '.join(LANGUAGES)}")


def _rounded(value: float, decimals: int) -> Decimal:
    # repr() gives the shortest decimal that round-trips, so 2.675 rounds to 2.68 as printed.
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def format_number(value: float, decimals: int = 0, lang: str = "fi") -> str:
    """4489 -> '4 489' (fi) or '4,489' (en); -1246.5 with 1 decimal -> '−1 246,5'."""
    _check_lang(lang)
    number = _rounded(value, decimals)
    negative = number < 0
    text = f"{abs(number):.{decimals}f}"
    whole, _, fraction = text.partition(".")
    group = NBSP if lang == "fi" else ","
    digits = []
    for index, digit in enumerate(reversed(whole)):
        if index and index % 3 == 0:
            digits.append(group)
        digits.append(digit)
    whole = "".join(reversed(digits))
    point = "," if lang == "fi" else "."
    body = f"{whole}{point}{fraction}" if fraction else whole
    if negative and number != 0:
        return (MINUS if lang == "fi" else "-") + body
    return body


def format_count(value: float, lang: str = "fi") -> str:
    """A person count: whole numbers without decimals, a half (a target of 2 244,5) with one."""
    decimals = 0 if float(value).is_integer() else 1
    return format_number(value, decimals, lang)


def format_signed_count(value: float, lang: str = "fi") -> str:
    """A change: '+12', '−1 246', '0'."""
    text = format_count(value, lang)
    return f"+{text}" if value > 0 else text


def format_percent(value: float, decimals: int = 1, lang: str = "fi") -> str:
    """27.76 -> '27,8 %' (fi) or '27.8%' (en)."""
    text = format_number(value, decimals, lang)
    return f"{text}{NBSP}%" if lang == "fi" else f"{text}%"


def format_eur(value: float, lang: str = "fi", decimals: int = 2) -> str:
    """896637.37 -> '896 637,37 €' (fi) or '€896,637.37' (en)."""
    text = format_number(value, decimals, lang)
    if lang == "fi":
        return f"{text}{NBSP}€"
    if text.startswith("-"):
        return f"-€{text[1:]}"
    return f"€{text}"


def format_month(month: date, lang: str = "fi") -> str:
    """date(2010, 12, 1) -> 'joulukuu 2010' / 'December 2010'."""
    _check_lang(lang)
    return f"{_MONTHS[lang][month.month - 1]} {month.year}"


def format_month_short(month: date, lang: str = "fi") -> str:
    """date(2010, 12, 1) -> '12/2010' (both languages: the Finnish statistical style)."""
    _check_lang(lang)
    return f"{month.month}/{month.year}"


def format_date(day: date, lang: str = "fi") -> str:
    """date(2010, 12, 31) -> '31.12.2010' / '31 December 2010'."""
    _check_lang(lang)
    if lang == "fi":
        return f"{day.day}.{day.month}.{day.year}"
    return f"{day.day} {_MONTHS['en'][day.month - 1]} {day.year}"


def raw_number(value: float) -> str:
    """The published number for a data attribute: 3243.0 -> '3243', 2244.5 -> '2244.5' (never exponents)."""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)
