"""Read Statistics Finland's StatFin files: PX, JSON-stat 2.0 and the PxWeb API v1 `json`.

`read_statfin(path)` is the one entry point: a pure function (no Dagster, no warehouse)
that tells the format from the content, resolves the dimensions from the metadata and
returns every cell of the file, a number or a symbol, as a `StatfinTable`
(docs/source-contracts.md, "Official statistics"; docs/official-statistics.md).

- The month is the time variable: PX `TIMEVAL(...)` or `VARIABLE-TYPE(...)="Time"`,
  JSON-stat `role.time`, PxWeb json the column of type `t`. Its name is never assumed
  (`Kuukausi` in older tables, `timeperiod_m` from 2026); its codes are `YYYYMmm`.
- The measure is the content variable: PX `CONTVARIABLE`, JSON-stat `role.metric`, PxWeb
  json the columns of type `c`. A file without one has a single measure named by the table.
- The area is the remaining variable (JSON-stat `role.geo` when given): codes `SSS`,
  `MK##`, `SK###`, `KU###`, ... as the source writes them.
- A cell without a number keeps its symbol (`...`, `..`, `.`, `-`): `value` is None and
  `symbol` the symbol as written, except `-` (magnitude nil), which is the number 0 and
  keeps its symbol too. Numbers have symbol None.
- PX: the header's `CODEPAGE` decides the encoding (default: Windows-1252, PX's "ANSI"),
  CRLF or LF, keywords in several languages (`KEYWORD[sv](...)`): the default language's
  keywords are used, the others only have to be well formed.

Why not pyaxis or pyjstat (checked in docs/official-statistics.md): their current
releases are source distributions only (the project installs binaries only), pyaxis
pulls in `requests` and pyjstat, and pyaxis turns the file into a data frame of labels,
not codes, with the symbols mixed into the values as text.

A file that cannot be read raises `StatfinFileError`, naming the file, the line (PX) and
the problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipelines.sources.errors import UnreadableFileError

PX = "px"
JSON_STAT2 = "json-stat2"
PXWEB_JSON = "pxweb-json"

# The symbols StatFin writes for a cell without a number, and what each means.
CONFIDENTIAL_SYMBOLS = ("...", "..")  # confidential, or not available
NOT_APPLICABLE_SYMBOLS = (".",)  # logically impossible
NIL_SYMBOLS = ("-",)  # magnitude nil: the number 0
SYMBOLS = CONFIDENTIAL_SYMBOLS + NOT_APPLICABLE_SYMBOLS + NIL_SYMBOLS
# PX writes a few more dot runs (".....", "......"): all mean "not available" there.
_DOTS = re.compile(r"\.{4,6}")

_MONTH_CODE = re.compile(r"(\d{4})M(0[1-9]|1[0-2])")
_AREA_CODE = re.compile(r"(SSS|MK\d\d|SK\d{3}|KU\d{3}|ELY\d\d|[A-Z]{2,5}[A-Z0-9]*)")

CELL_SCHEMA = pa.schema(
    [
        ("table_id", pa.string()),
        ("month", pa.string()),  # YYYY-MM
        ("area_code", pa.string()),
        ("area_name", pa.string()),  # in the file's default language; None when the file has no labels
        ("measure", pa.string()),
        ("value", pa.float64()),  # None without a number
        ("symbol", pa.string()),  # the symbol as written; None for a number
    ]
)


class StatfinFileError(UnreadableFileError):
    """A StatFin file that cannot be read as a whole; names the file, the line and the problem."""


@dataclass(frozen=True)
class StatfinTable:
    """Every cell of one StatFin file, and what its metadata says."""

    name: str  # as reported (the file's base name, or the name the caller gave)
    format: str  # PX | JSON_STAT2 | PXWEB_JSON
    table_id: str  # e.g. '12r5': from the metadata, failing that the file name
    updated: datetime | None  # the dataset's last update (UTC when the source says so), None if absent
    title: str | None
    cells: pa.Table = field(repr=False)  # CELL_SCHEMA, one row per (month, area, measure)
    encoding: str = "utf-8"
    languages: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return self.cells.num_rows

    def to_pandas(self):
        return self.cells.to_pandas()


def status_of(symbol: str | None) -> str:
    """The published status of a cell with `symbol` (METRICS.md): ok, confidential, not_applicable."""
    if symbol is None or symbol in NIL_SYMBOLS:
        return "ok"
    if symbol in NOT_APPLICABLE_SYMBOLS:
        return "not_applicable"
    return "confidential"


def month_of_code(code: str) -> str | None:
    """'2024M01' -> '2024-01'; None for anything else."""
    match = _MONTH_CODE.fullmatch(code.strip())
    return f"{match.group(1)}-{match.group(2)}" if match else None


def read_statfin(path: str | Path, *, name: str | None = None) -> StatfinTable:
    """Read one StatFin file (PX, JSON-stat 2.0 or PxWeb v1 json; the content decides)."""
    path = Path(path)
    name = name or path.name
    try:
        data = path.read_bytes()
    except OSError as error:
        raise StatfinFileError(name, None, f"cannot be read: {error.strerror}") from None
    return parse_statfin(data, name=name)


def parse_statfin(data: bytes, *, name: str) -> StatfinTable:
    """The same as `read_statfin`, on the file's bytes."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise StatfinFileError(name, None, "the file is empty")
    if head[:1] in (b"{", b"["):
        return _read_json(data, name)
    if re.match(rb"[A-Z][A-Z0-9-]*(\[[a-z]{2,3}\])?(\(\"[^\"]*\"(,\"[^\"]*\")*\))?=", head):
        return _read_px(data, name)
    raise StatfinFileError(
        name, 1, "not a StatFin file: neither PX (KEYWORD=value;) nor JSON (JSON-stat 2.0 or PxWeb json)"
    )


# --- PX ----------------------------------------------------------------------------------

_CODEPAGE = re.compile(rb'CODEPAGE\s*=\s*"([^"]+)"')
_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_-]*)(?:\[([A-Za-z-]+)\])?(?:\(([^=]*)\))?\s*=")
_DATA_TOKEN = re.compile(r'"[^"\r\n]*"|[^\s,;"]+')


@dataclass
class _PxKeyword:
    key: str
    language: str | None
    subkeys: tuple[str, ...]
    values: list[str]  # strings unquoted; bare tokens as written
    line: int


def _px_encoding(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    match = _CODEPAGE.search(data[: data.find(b"DATA=") if b"DATA=" in data else len(data)])
    if not match:
        return "windows-1252"  # PX's default, CHARSET="ANSI"
    codepage = match.group(1).decode("ascii", "replace").strip().lower()
    try:
        "".encode(codepage)
    except LookupError:
        raise StatfinFileError(name, None, f'CODEPAGE="{codepage}" is not an encoding Kaira knows') from None
    return codepage


def _read_px(data: bytes, name: str) -> StatfinTable:
    encoding = _px_encoding(data, name)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise StatfinFileError(name, line, f"a byte is not valid in the file's CODEPAGE {encoding}") from None
    keywords, data_line, data_text = _px_keywords(text, name)
    default_language = _px_single(keywords, "LANGUAGE") or None

    def get(key: str, *subkeys: str) -> _PxKeyword | None:
        # The default language's keywords carry no [xx]; the others name variables in their own words.
        for keyword in keywords:
            if keyword.key == key and keyword.subkeys == subkeys and keyword.language is None:
                return keyword
        return None

    stub = get("STUB").values if get("STUB") else []
    heading = get("HEADING").values if get("HEADING") else []
    variables = stub + heading
    if not variables:
        raise StatfinFileError(name, None, "PX file without STUB or HEADING: its dimensions are unknown")
    codes: dict[str, list[str]] = {}
    labels: dict[str, list[str]] = {}
    for variable in variables:
        values_kw = get("VALUES", variable)
        if values_kw is None:
            raise StatfinFileError(name, None, f'PX file without VALUES("{variable}")')
        codes_kw = get("CODES", variable)
        labels[variable] = values_kw.values
        codes[variable] = codes_kw.values if codes_kw else values_kw.values
        if len(codes[variable]) != len(labels[variable]):
            raise StatfinFileError(
                name, codes_kw.line if codes_kw else values_kw.line, f'CODES("{variable}") and VALUES differ in length'
            )

    time_variable = _px_time_variable(variables, codes, get, name)
    contvariable = get("CONTVARIABLE")
    measure_variable = contvariable.values[0] if contvariable and contvariable.values else None
    if measure_variable is not None and measure_variable not in variables:
        raise StatfinFileError(
            name, contvariable.line, f'CONTVARIABLE="{measure_variable}" is not a variable of the file'
        )
    area_variable = _other_variable(variables, codes, {time_variable, measure_variable}, name)

    tokens = _DATA_TOKEN.findall(data_text)
    sizes = [len(codes[variable]) for variable in variables]
    expected = int(np.prod(sizes))
    if len(tokens) != expected:
        raise StatfinFileError(
            name,
            data_line,
            f"DATA holds {len(tokens)} values, but the dimensions ({' × '.join(map(str, sizes))}) need {expected}",
        )
    values, symbols = _px_values(tokens, name, data_line, data_text)
    table_id = _table_id(
        [_px_single(keywords, "TABLEID"), _px_single(keywords, "MATRIX"), _px_single(keywords, "TITLE")], name
    )
    updated = _px_updated(keywords)
    languages_kw = get("LANGUAGES")
    cells = _cells(
        table_id,
        variables,
        sizes,
        codes,
        labels,
        time_variable,
        area_variable,
        measure_variable,
        values,
        symbols,
        name,
    )
    return StatfinTable(
        name=name,
        format=PX,
        table_id=table_id,
        updated=updated,
        title=_px_single(keywords, "TITLE") or None,
        cells=cells,
        encoding=encoding,
        languages=tuple(languages_kw.values) if languages_kw else ((default_language,) if default_language else ()),
    )


def _px_keywords(text: str, name: str) -> tuple[list[_PxKeyword], int, str]:
    """The header's keywords in order, the line of DATA= and the text of the data part."""
    keywords: list[_PxKeyword] = []
    position, line, length = 0, 1, len(text)
    while True:
        # skip white space between keywords
        while position < length and text[position] in " \t\r\n":
            if text[position] == "\n":
                line += 1
            position += 1
        if position >= length:
            raise StatfinFileError(name, line, "PX file without DATA=: no values")
        match = _KEY.match(text, position)
        if not match:
            snippet = text[position : position + 30].split("\n")[0]
            raise StatfinFileError(name, line, f"expected KEYWORD=...; but found {snippet!r}")
        key, language, sub = match.group(1), match.group(2), match.group(3)
        position = match.end()
        if key == "DATA":
            end = text.find(";", position)
            if end < 0:
                raise StatfinFileError(name, line, "DATA= is not closed by ';'")
            rest = text[end + 1 :].strip()
            if rest:
                raise StatfinFileError(
                    name, line + text[position:end].count("\n"), "text after the closing ';' of DATA"
                )
            return keywords, line, text[position:end]
        values, position, end_line = _px_value_list(text, position, line, name)
        subkeys = tuple(_unquote_list(sub, name, line)) if sub is not None else ()
        keywords.append(_PxKeyword(key, language, subkeys, values, line))
        line = end_line


def _px_value_list(text: str, position: int, line: int, name: str) -> tuple[list[str], int, int]:
    """The values of one keyword up to its ';': quoted strings (adjacent ones joined, as a
    long text is split over lines), bare tokens (numbers, YES, TLIST(A1)) as written."""
    values: list[str] = []
    current: str | None = None
    length = len(text)
    start_line = line
    while position < length:
        char = text[position]
        if char == '"':
            end = text.find('"', position + 1)
            if end < 0:
                raise StatfinFileError(name, line, "a quoted text is not closed")
            piece = text[position + 1 : end]
            line += piece.count("\n")
            current = piece if current is None else current + piece
            position = end + 1
        elif char == ",":
            values.append(current if current is not None else "")
            current = None
            position += 1
        elif char == ";":
            if current is not None:
                values.append(current)
            return values, position + 1, line
        elif char in " \t\r":
            position += 1
        elif char == "\n":
            line += 1
            position += 1
        else:
            bare = re.compile(r'[^,;"\s]+(\([^)]*\))?').match(text, position)
            token = bare.group(0)
            current = token if current is None else current + token
            position = bare.end()
    raise StatfinFileError(name, start_line, "a keyword's value is not closed by ';'")


def _unquote_list(text: str, name: str, line: int) -> list[str]:
    items = re.findall(r'"([^"]*)"', text)
    if not items:
        raise StatfinFileError(name, line, f"keyword argument ({text}) has no quoted names")
    return items


def _px_single(keywords: list[_PxKeyword], key: str) -> str:
    for keyword in keywords:
        if keyword.key == key and keyword.language is None and not keyword.subkeys and keyword.values:
            return keyword.values[0]
    return ""


def _px_time_variable(variables, codes, get, name: str) -> str:
    for variable in variables:
        if get("TIMEVAL", variable) is not None:
            return variable
        variable_type = get("VARIABLE-TYPE", variable)
        if variable_type and variable_type.values and variable_type.values[0].lower() == "time":
            return variable
    for variable in variables:
        if codes[variable] and all(_MONTH_CODE.fullmatch(code) for code in codes[variable]):
            return variable
    raise StatfinFileError(name, None, "no time variable (TIMEVAL, VARIABLE-TYPE Time, or codes YYYYMmm)")


def _px_values(tokens: list[str], name: str, data_line: int, data_text: str) -> tuple[np.ndarray, list[str | None]]:
    values = np.full(len(tokens), np.nan)
    symbols: list[str | None] = [None] * len(tokens)
    for index, token in enumerate(tokens):
        bare = token.strip('"') if token.startswith('"') else token
        symbol = _symbol(bare)
        if symbol is not None:
            symbols[index] = symbol
            if symbol in NIL_SYMBOLS:
                values[index] = 0.0
            continue
        try:
            values[index] = float(bare)
        except ValueError:
            line = data_line + _line_of_token(data_text, index)
            raise StatfinFileError(
                name, line, f"value {bare[:20]!r} is neither a number nor a StatFin symbol"
            ) from None
    return values, symbols


def _line_of_token(data_text: str, index: int) -> int:
    for number, match in enumerate(_DATA_TOKEN.finditer(data_text)):
        if number == index:
            return data_text[: match.start()].count("\n")
    return 0


def _symbol(text: str) -> str | None:
    text = text.strip()
    if text in SYMBOLS or _DOTS.fullmatch(text):
        return text
    return None


def _px_updated(keywords: list[_PxKeyword]) -> datetime | None:
    """The latest LAST-UPDATED of the default language (one per content value), else
    CREATION-DATE. PX writes them as 'YYYYMMDD HH:MM' (local time of the producer)."""
    stamps = [
        keyword.values[0]
        for keyword in keywords
        if keyword.key == "LAST-UPDATED" and keyword.language is None and keyword.values
    ]
    parsed = [stamp for stamp in (_px_time(text) for text in stamps) if stamp is not None]
    if parsed:
        return max(parsed)
    return _px_time(_px_single(keywords, "CREATION-DATE"))


def _px_time(text: str) -> datetime | None:
    for pattern in ("%Y%m%d %H:%M", "%Y%m%d %H:%M:%S", "%Y%m%d"):
        try:
            return datetime.strptime(text.strip(), pattern)
        except ValueError:
            continue
    return None


# --- JSON: JSON-stat 2.0 and PxWeb v1 json ------------------------------------------------


def _read_json(data: bytes, name: str) -> StatfinTable:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise StatfinFileError(name, line, "a JSON file must be UTF-8") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise StatfinFileError(name, error.lineno, f"not valid JSON: {error.msg}") from None
    if isinstance(document, dict) and document.get("class") == "dataset":
        return _read_json_stat(document, name)
    if isinstance(document, dict) and "columns" in document and "data" in document:
        return _read_pxweb_json(document, name)
    if isinstance(document, dict) and "dimension" in document and "value" in document:
        return _read_json_stat(document, name)  # JSON-stat 2.0 without "class" (some tools leave it out)
    raise StatfinFileError(
        name, 1, 'JSON, but neither JSON-stat 2.0 ("class": "dataset") nor PxWeb json ("columns" and "data")'
    )


def _read_json_stat(document: dict, name: str) -> StatfinTable:
    try:
        variables = list(document["id"])
        sizes = [int(size) for size in document["size"]]
        dimensions = document["dimension"]
    except (KeyError, TypeError, ValueError):
        raise StatfinFileError(name, None, 'JSON-stat dataset without "id", "size" or "dimension"') from None
    if len(variables) != len(sizes):
        raise StatfinFileError(name, None, 'JSON-stat "id" and "size" differ in length')
    codes: dict[str, list[str]] = {}
    labels: dict[str, list[str]] = {}
    for variable, size in zip(variables, sizes):
        category = (dimensions.get(variable) or {}).get("category") or {}
        index = category.get("index")
        if isinstance(index, dict):
            ordered = [code for code, _ in sorted(index.items(), key=lambda item: item[1])]
        elif isinstance(index, list):
            ordered = list(index)
        elif isinstance(category.get("label"), dict) and len(category["label"]) == 1:
            ordered = list(category["label"])
        else:
            raise StatfinFileError(name, None, f'JSON-stat dimension "{variable}" has no category index')
        if len(ordered) != size:
            raise StatfinFileError(
                name, None, f'JSON-stat dimension "{variable}" has {len(ordered)} categories, size {size}'
            )
        label_map = category.get("label") or {}
        codes[variable] = ordered
        labels[variable] = [str(label_map.get(code, code)) for code in ordered]
    role = document.get("role") or {}
    time_variable = _role(role, "time", variables, name) or _by_codes(variables, codes, name)
    measure_variable = _role(role, "metric", variables, name)
    area_variable = _role(role, "geo", variables, name) or _other_variable(
        variables, codes, {time_variable, measure_variable}, name
    )
    total = int(np.prod(sizes))
    values = np.full(total, np.nan)
    symbols: list[str | None] = [None] * total
    raw_values = document.get("value")
    if isinstance(raw_values, list):
        if len(raw_values) != total:
            raise StatfinFileError(
                name, None, f'JSON-stat "value" holds {len(raw_values)} values, the sizes need {total}'
            )
        items = enumerate(raw_values)
    elif isinstance(raw_values, dict):
        items = ((_json_index(key, total, name), value) for key, value in raw_values.items())
    else:
        raise StatfinFileError(name, None, 'JSON-stat dataset without "value"')
    for index, value in items:
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            symbol = _symbol(str(value))
            if symbol is None:
                raise StatfinFileError(name, None, f"value at index {index} is neither a number nor a StatFin symbol")
            symbols[index] = symbol
            values[index] = 0.0 if symbol in NIL_SYMBOLS else np.nan
            continue
        values[index] = float(value)
    for index, status in _json_status(document.get("status"), total, name):
        symbol = _symbol(status)
        if symbol is None:
            continue  # other status flags (e.g. provisional) annotate a number
        if np.isnan(values[index]) or symbol in NIL_SYMBOLS:
            symbols[index] = symbol
            if symbol in NIL_SYMBOLS:
                values[index] = 0.0
    missing = [index for index in range(total) if np.isnan(values[index]) and symbols[index] is None]
    if missing:
        raise StatfinFileError(
            name,
            None,
            f"{len(missing)} cell(s) have neither a number nor a status symbol (first at index {missing[0]})",
        )
    extension = (document.get("extension") or {}).get("px") or {}
    table_id = _table_id([str(extension.get("tableid") or ""), str(document.get("label") or "")], name)
    return StatfinTable(
        name=name,
        format=JSON_STAT2,
        table_id=table_id,
        updated=_iso_time(document.get("updated")),
        title=document.get("label"),
        cells=_cells(
            table_id,
            variables,
            sizes,
            codes,
            labels,
            time_variable,
            area_variable,
            measure_variable,
            values,
            symbols,
            name,
        ),
        encoding="utf-8",
        languages=(str(extension["language"]),) if extension.get("language") else (),
    )


def _json_index(key: str, total: int, name: str) -> int:
    try:
        index = int(key)
    except ValueError:
        raise StatfinFileError(name, None, f"JSON-stat index {key!r} is not a number") from None
    if not 0 <= index < total:
        raise StatfinFileError(name, None, f"JSON-stat index {index} is outside the dataset (size {total})")
    return index


def _json_status(status, total: int, name: str):
    if status is None:
        return []
    if isinstance(status, str):
        return [(index, status) for index in range(total)]
    if isinstance(status, list):
        if len(status) == 1:
            return [(index, str(status[0])) for index in range(total)]
        if len(status) != total:
            raise StatfinFileError(
                name, None, f'JSON-stat "status" holds {len(status)} entries, the sizes need {total}'
            )
        return [(index, str(value)) for index, value in enumerate(status) if value is not None]
    if isinstance(status, dict):
        return [(_json_index(key, total, name), str(value)) for key, value in status.items() if value is not None]
    raise StatfinFileError(name, None, 'JSON-stat "status" is neither a text, a list nor an object')


def _role(role: dict, kind: str, variables: list[str], name: str) -> str | None:
    named = role.get(kind) or []
    named = [variable for variable in named if variable in variables]
    if len(named) > 1:
        raise StatfinFileError(name, None, f"JSON-stat role.{kind} names {len(named)} dimensions; Kaira reads one")
    return named[0] if named else None


def _read_pxweb_json(document: dict, name: str) -> StatfinTable:
    columns = document.get("columns")
    rows = document.get("data")
    if not isinstance(columns, list) or not isinstance(rows, list):
        raise StatfinFileError(name, None, 'PxWeb json: "columns" and "data" must be lists')
    keys = [column for column in columns if column.get("type") in ("d", "t")]
    contents = [column for column in columns if column.get("type") == "c"]
    times = [column["code"] for column in keys if column.get("type") == "t"]
    if len(times) != 1:
        raise StatfinFileError(name, None, f'PxWeb json has {len(times)} time columns (type "t"); Kaira reads one')
    key_codes = [column["code"] for column in keys]
    time_position = key_codes.index(times[0])
    others = [position for position, column in enumerate(keys) if column.get("type") == "d"]
    metadata = (document.get("metadata") or [{}])[0] or {}
    table_id = _table_id([str(metadata.get("label") or ""), str(metadata.get("infofile") or "")], name)
    if len(others) != 1:
        raise StatfinFileError(
            name, None, f"PxWeb json has {len(others)} classifying columns; Kaira reads one (the area)"
        )
    area_position = others[0]
    measures = [column["code"] for column in contents] or [table_id]
    months, areas, measure_column, values_out, symbols_out = [], [], [], [], []
    seen: set[tuple[str, str]] = set()
    for number, row in enumerate(rows):
        key = row.get("key") if isinstance(row, dict) else None
        values = row.get("values") if isinstance(row, dict) else None
        if (
            not isinstance(key, list)
            or len(key) != len(keys)
            or not isinstance(values, list)
            or len(values) != len(measures)
        ):
            raise StatfinFileError(
                name, None, f"PxWeb json data row {number + 1}: expected {len(keys)} keys and {len(measures)} values"
            )
        month = month_of_code(str(key[time_position]))
        if month is None:
            raise StatfinFileError(
                name, None, f"PxWeb json data row {number + 1}: {key[time_position]!r} is not a month YYYYMmm"
            )
        area = str(key[area_position])
        if (month, area) in seen:
            raise StatfinFileError(name, None, f"PxWeb json data row {number + 1}: {area} {month} appears twice")
        seen.add((month, area))
        for measure, text in zip(measures, values):
            value, symbol = _pxweb_value(text, name, number)
            months.append(month)
            areas.append(area)
            measure_column.append(measure)
            values_out.append(value)
            symbols_out.append(symbol)
    cells = pa.table(
        {
            "table_id": pa.array([table_id] * len(months), pa.string()),
            "month": pa.array(months, pa.string()),
            "area_code": pa.array(areas, pa.string()),
            "area_name": pa.array([None] * len(months), pa.string()),
            "measure": pa.array(measure_column, pa.string()),
            "value": pa.array(values_out, pa.float64()),
            "symbol": pa.array(symbols_out, pa.string()),
        },
        schema=CELL_SCHEMA,
    )
    return StatfinTable(
        name=name,
        format=PXWEB_JSON,
        table_id=table_id,
        updated=_iso_time(metadata.get("updated")),
        title=metadata.get("label"),
        cells=cells,
        encoding="utf-8",
    )


def _pxweb_value(text, name: str, number: int) -> tuple[float | None, str | None]:
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text), None
    text = str(text).strip() if text is not None else ""
    symbol = _symbol(text)
    if symbol is not None:
        return (0.0 if symbol in NIL_SYMBOLS else None), symbol
    try:
        return float(text), None
    except ValueError:
        raise StatfinFileError(
            name,
            None,
            f"PxWeb json data row {number + 1}: value {text[:20]!r} is neither a number nor a StatFin symbol",
        ) from None


def _iso_time(text) -> datetime | None:
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp


# --- shared -------------------------------------------------------------------------------


def _by_codes(variables: list[str], codes: dict[str, list[str]], name: str) -> str:
    for variable in variables:
        if codes[variable] and all(_MONTH_CODE.fullmatch(code) for code in codes[variable]):
            return variable
    raise StatfinFileError(name, None, "no time dimension (role.time, or a dimension of months YYYYMmm)")


def _other_variable(variables: list[str], codes: dict[str, list[str]], taken: set, name: str) -> str:
    """The area variable: the one left when month and measure are taken. Further
    dimensions are allowed only with a single category (they select, not split)."""
    left = [variable for variable in variables if variable not in taken]
    split = [variable for variable in left if len(codes[variable]) > 1]
    if len(split) > 1:
        raise StatfinFileError(
            name,
            None,
            f"more dimensions than month, area and measure: {', '.join(split)}; select one value of the others",
        )
    candidates = split or [variable for variable in left if all(_AREA_CODE.fullmatch(code) for code in codes[variable])]
    if not candidates:
        raise StatfinFileError(name, None, "no area dimension (role.geo, or a dimension of area codes)")
    return candidates[0]


def _table_id(candidates: Sequence[str], name: str) -> str:
    """'12r5' from TABLEID 'statfin_tyonv_pxt_12r5', MATRIX '001_12r5_2024', a title
    '12r5 -- ...', an infofile; failing those, from the file name."""
    for candidate in candidates:
        candidate = (candidate or "").strip()
        if not candidate:
            continue
        match = re.search(r"pxt_([0-9a-z]+)(?:\.px)?$", candidate)
        if match:
            return match.group(1)
        match = re.fullmatch(r"\d{3}_([0-9a-z]+)_\d{4}", candidate)
        if match:
            return match.group(1)
        match = re.match(r"([0-9]{2,3}[a-z][0-9a-z]*)\s+--", candidate)
        if match:
            return match.group(1)
    match = re.search(r"(?:^|[_\-.])(\d{2,3}[a-z][0-9a-z]*)(?:[_\-.]|$)", Path(name).stem.lower())
    if match:
        return match.group(1)
    return Path(name).stem


def _cells(
    table_id: str,
    variables: list[str],
    sizes: list[int],
    codes: dict[str, list[str]],
    labels: dict[str, list[str]],
    time_variable: str,
    area_variable: str,
    measure_variable: str | None,
    values: np.ndarray,
    symbols: list[str | None],
    name: str,
) -> pa.Table:
    """The cube (values in row-major order of `variables`, the last varying fastest) as rows."""
    total = len(values)
    positions = np.indices(sizes).reshape(len(sizes), total) if total else np.zeros((len(sizes), 0), dtype=int)

    def column(variable: str, source: dict[str, list[str]]) -> np.ndarray:
        axis = variables.index(variable)
        return np.asarray(source[variable], dtype=object)[positions[axis]]

    month_codes = codes[time_variable]
    months = [month_of_code(code) for code in month_codes]
    if any(month is None for month in months):
        bad = next(code for code, month in zip(month_codes, months) if month is None)
        raise StatfinFileError(name, None, f'time variable "{time_variable}" has {bad!r}, not a month YYYYMmm')
    month_column = np.asarray(months, dtype=object)[positions[variables.index(time_variable)]]
    measure_column = column(measure_variable, codes) if measure_variable else np.full(total, table_id, dtype=object)
    return pa.table(
        {
            "table_id": pa.array([table_id] * total, pa.string()),
            "month": pa.array(month_column.tolist(), pa.string()),
            "area_code": pa.array(column(area_variable, codes).tolist(), pa.string()),
            "area_name": pa.array(column(area_variable, labels).tolist(), pa.string()),
            "measure": pa.array(measure_column.tolist(), pa.string()),
            "value": pa.array(values, pa.float64(), mask=np.isnan(values)),
            "symbol": pa.array(symbols, pa.string()),
        },
        schema=CELL_SCHEMA,
    )
