"""Read a landing CSV by the common rules of docs/source-contracts.md, keeping each row's line number.

What it decides about the file as a whole (and fails on, with `UnreadableFileError`):
encoding, delimiter, header. What it leaves to the source's row validation: values.
Rows with the wrong number of fields are returned apart (`LandingFile.malformed`) to be
rejected like any other bad row.

- Encoding: strict UTF-8 first (a BOM is allowed); otherwise the legacy single-byte
  Windows-1252 / ISO-8859-15, which agree on every Finnish and Swedish letter. Bytes
  0x80-0x9F are printable only in Windows-1252 (control characters in ISO-8859-15), so
  they mean Windows-1252; without them, ISO-8859-15 is chosen only if the file holds a
  byte that is a letter there and a symbol in Windows-1252 (€ Š š Ž ž Œ œ Ÿ), else
  Windows-1252 (the two decode such a file identically). NUL bytes, other control
  characters and UTF-16 mean "not a CSV text file".
- Delimiter: `;`, or `,` when the header has commas and no semicolons and no data row
  has more comma-separated fields than the header (an unquoted decimal comma would make
  the file ambiguous, which fails it).
- Line numbers are physical: the header is line 1 (or the first non-blank line), CRLF,
  LF and CR all end a line, a quoted field spanning lines counts each line. Blank lines,
  and lines of only delimiters and spaces (Excel's empty rows), are not rows.
- A file without a header line, or with a header and no data rows, is unreadable (an
  empty delivery would silently delete a month's register). A first line that looks
  like data (an identity code, a number, a date) is never repeated in the message, and
  extra column names are reported only when they are plain identifiers: header text is
  file content and may be a person's identity code.
- Values are trimmed. Extra fields that are empty at the end of a row (a trailing
  delimiter) are dropped; a row with non-empty extra fields or too few fields is malformed.

Two ways to the same result: a plain file (no quote character, every line after the
header a row with the header's number of fields, no blank line) is read by Arrow's CSV
reader, where a line's number follows from its position; any other file, and any file
that fails, is read the careful way (every line split, or Python's csv module for quoted
fields), which also gives every error. The unit tests hold the two equal.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from pipelines.core.identity_codes import contains_code_like
from pipelines.sources.errors import UnreadableFileError

UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
WINDOWS_1252 = "windows-1252"
ISO_8859_15 = "iso-8859-15"

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_C1_BYTES = re.compile(rb"[\x80-\x9f]")
# Bytes that are letters (or €) in ISO-8859-15 but symbols in Windows-1252.
_ISO_8859_15_LETTERS = re.compile(rb"[\xa4\xa6\xa8\xb4\xb8\xbc\xbd\xbe]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# The same characters as they appear in UTF-8 bytes: the C0 ones (and DEL) are single bytes
# that never occur inside a multi-byte sequence, U+0080..U+009F are 0xC2 0x80..0x9F. Testing
# the bytes is several times faster than the regex over the text; the regex still finds
# the character (and its line) for the message.
_C0_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")
# A column name that may be repeated in a message or a table: a plain identifier (as
# normalised: trimmed, lower case) with no run of five digits, so no code, date or number
# can hide in it. Anything else is described, never quoted.
_SAFE_NAME = re.compile(r"[a-zäöå_][a-zäöå0-9_]{0,39}")
_DIGIT_RUN = re.compile(r"[0-9]{5}")
# A header field that starts like a number, an amount or a date: the line is data.
_DATA_START = re.compile(r"[-+\u2212]?[0-9]")
UNSAFE_COLUMNS = "unnamed/unsafe column"


@dataclass(frozen=True)
class LandingFile:
    """A landing CSV read as text columns, one row per data line."""

    name: str  # as reported (the path relative to the landing folder)
    sha256: str  # of the file's bytes as delivered
    encoding: str
    delimiter: str
    header: tuple[str, ...]  # normalised column names in file order (may hold anything: never logged)
    # Header names not asked for that are safe to show (plain identifiers), then, if any
    # others, one entry counting them ("2 unnamed/unsafe columns"): logged and stored.
    ignored_columns: tuple[str, ...]
    rows: pd.DataFrame  # `source_line` + one trimmed str column per wanted column
    # `source_line`, `reason`: rows with a wrong field count
    malformed: pd.DataFrame = field(default_factory=lambda: _no_malformed_rows())

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.malformed)


def _no_malformed_rows() -> pd.DataFrame:
    return pd.DataFrame({"source_line": pd.Series([], dtype="int64"), "reason": pd.Series([], dtype="str")})


def read_landing_csv(path: Path | str, columns: Sequence[str], *, name: str | None = None) -> LandingFile:
    """Read `path`, requiring every name in `columns` (lower case) in its header."""
    path = Path(path)
    name = name or path.name
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise UnreadableFileError(name, None, f"cannot be opened ({error.strerror or error})") from None
    sha256 = hashlib.sha256(raw).hexdigest()
    text, encoding = decode_bytes(raw, name)
    return parse_text(text, columns, name=name, sha256=sha256, encoding=encoding)


def _line_at(data: bytes | str, position: int) -> int:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    return data.count(newline, 0, position) + 1


def decode_bytes(raw: bytes, name: str) -> tuple[str, str]:
    """(text, encoding name) or UnreadableFileError."""
    # (raw.strip() would copy the whole file: only a file that begins with a space can be blank)
    if not raw or (raw[:1].isspace() and not raw.strip()):
        raise UnreadableFileError(name, 1, "the file is empty")
    if raw.startswith(_UTF16_BOMS):
        raise UnreadableFileError(name, 1, "the file is UTF-16 encoded; deliver UTF-8 or Windows-1252")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise UnreadableFileError(name, _line_at(raw, nul), "binary content (a NUL byte): this is not a CSV text file")
    if raw.startswith(_UTF8_BOM):
        try:
            text, encoding = raw[len(_UTF8_BOM) :].decode(UTF8), UTF8_BOM
        except UnicodeDecodeError as error:
            line = _line_at(raw, error.start + len(_UTF8_BOM))
            raise UnreadableFileError(
                name, line, f"starts with a UTF-8 byte-order mark but byte 0x{raw[error.start + 3]:02X} is not valid UTF-8"
            ) from None
    else:
        try:
            text, encoding = raw.decode(UTF8), UTF8
        except UnicodeDecodeError:
            if _C1_BYTES.search(raw):
                encoding = WINDOWS_1252
            elif _ISO_8859_15_LETTERS.search(raw):
                encoding = ISO_8859_15
            else:
                encoding = WINDOWS_1252
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError as error:
                raise UnreadableFileError(
                    name,
                    _line_at(raw, error.start),
                    f"unknown encoding: byte 0x{raw[error.start]:02X} is valid in neither UTF-8, "
                    "Windows-1252 nor ISO-8859-15 text",
                ) from None
    control = _CONTROL.search(text) if _may_hold_control(raw, encoding) else None
    if control:
        raise UnreadableFileError(
            name,
            _line_at(text, control.start()),
            f"control character U+{ord(control.group()):04X} (encoding {encoding}): this is not a CSV text file",
        )
    return text, encoding


def _may_hold_control(raw: bytes, encoding: str) -> bool:
    """False only when the UTF-8 bytes surely hold no control character (see _C0_BYTES)."""
    if encoding not in (UTF8, UTF8_BOM):
        return True
    return len(raw.translate(None, _C0_BYTES)) != len(raw) or (b"\xc2" in raw and bool(_C1_UTF8.search(raw)))


def is_safe_column_name(name: str) -> bool:
    """May this (normalised) header name be repeated in a message, a log or a table?"""
    return bool(_SAFE_NAME.fullmatch(name)) and not _DIGIT_RUN.search(name) and not contains_code_like(name)


def looks_like_data(field: str) -> bool:
    """Is this header field a value rather than a name: an identity code in any form, or
    something that starts like a number, an amount or a date?"""
    return contains_code_like(field) or bool(_DATA_START.match(field))


def count_unsafe(count: int) -> str:
    return f"{count} {UNSAFE_COLUMNS}" + ("s" if count != 1 else "")


def _describe_header(names: Sequence[str]) -> str:
    shown = [n if is_safe_column_name(n) else "<unsafe name>" if n else "<empty>" for n in names[:30]]
    more = f", … ({len(names)} in all)" if len(names) > 30 else ""
    return ", ".join(shown) + more


def _check_header(names: list[str], columns: Sequence[str], name: str, line: int, delimiter: str) -> None:
    missing = [c for c in columns if c not in names]
    if missing:
        if any(looks_like_data(n) for n in names):
            # A header-less file's first line is a data row: not one of its fields is repeated.
            problem = (
                f"the first line looks like data, not a header: the file has no header line "
                f"({len(names)} field(s) split at '{delimiter}'; required columns: {', '.join(columns)})"
            )
        else:
            problem = (
                f"missing required column(s) {', '.join(missing)}; the header (split at '{delimiter}') has "
                f"{len(names)} column(s): {_describe_header(names)}"
            )
        raise UnreadableFileError(name, line, problem)
    duplicated = sorted({c for c in columns if names.count(c) > 1})
    if duplicated:
        raise UnreadableFileError(name, line, f"column(s) {', '.join(duplicated)} appear more than once in the header")


def _choose_delimiter(header_line: str) -> str:
    if ";" in header_line:
        return ";"
    if "," in header_line:
        return ","
    return ";"


def parse_text(text: str, columns: Sequence[str], *, name: str, sha256: str = "", encoding: str = UTF8) -> LandingFile:
    """Parse decoded text; see the module docstring for the rules."""
    columns = [c.lower() for c in columns]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    fast = None if '"' in text else _plain_fast(text, columns)
    if fast is not None:
        header_line, names, delimiter, lines, values = fast
        malformed = _no_malformed_rows()
    else:
        header_line, names, delimiter, lines, values, malformed = _parse_records(text, columns, name)
    data: dict[str, pd.Series] = {"source_line": pd.Series(lines)}
    for column in columns:
        data[column] = pd.Series(values[column], dtype="str")
    rows = pd.DataFrame(data)

    extra = [n for n in names if n not in columns]
    ignored = tuple(n for n in extra if n and is_safe_column_name(n))
    unsafe = len(extra) - len(ignored)
    if unsafe:
        ignored += (count_unsafe(unsafe),)
    return LandingFile(
        name=name,
        sha256=sha256,
        encoding=encoding,
        delimiter=delimiter,
        header=tuple(names),
        ignored_columns=ignored,
        rows=rows,
        malformed=malformed,
    )


def _parse_records(text: str, columns: list[str], name: str):
    """The careful way, for any text: split every line (or let the csv module read quoted
    fields), then set apart blank lines and rows with the wrong number of fields. Returns
    (header line, names, delimiter, lines of the rows, trimmed values by column, malformed)."""
    if '"' in text:
        header_line, names, delimiter, lines, records = _records_quoted(text, name)
        first_fields = None
    else:
        header_line, names, delimiter, lines, records, first_fields = _records_plain(text, name)
    _check_header(names, columns, name, header_line, delimiter)
    width = len(names)

    count = np.asarray(pc.list_value_length(records).fill_null(0), dtype=np.int64)
    blank = _blank_records(records, first_fields)
    exact = (count == width) & ~blank
    too_many = np.flatnonzero((count > width) & ~blank)
    if len(too_many):
        # Extra fields are fine only if they are empty (a trailing delimiter).
        extras_empty = np.array(
            [all(not (f or "").strip() for f in records[int(i)].as_py()[width:]) for i in too_many], dtype=bool
        )
        if delimiter == "," and not extras_empty.all():
            first = int(lines[too_many[~extras_empty][0]])
            raise UnreadableFileError(
                name,
                first,
                f"the file is not unambiguously comma-separated: this line has more fields than the header's {width} "
                "(an unquoted decimal comma?); deliver it ';'-separated or quote such values",
            )
        exact[too_many[extras_empty]] = True
    wrong = ~exact & ~blank
    if not (exact.any() or wrong.any()):
        raise UnreadableFileError(name, header_line, "the file has a header but no data rows")
    malformed = pd.DataFrame(
        {
            "source_line": lines[wrong].astype(np.int64),
            "reason": pd.Series(
                [f"row has {c} fields, the header has {width}" for c in count[wrong]], dtype="str"
            ),
        }
    )

    # Every kept record has at least `width` fields: each column is one element of the lists.
    kept = records if exact.all() else records.filter(pa.array(exact))
    values = {column: pc.utf8_trim_whitespace(pc.list_element(kept, names.index(column))) for column in columns}
    return header_line, names, delimiter, lines[exact].astype(np.int64), values, malformed


def _plain_fast(text: str, columns: list[str]):
    """The common case, read by Arrow's CSV reader (C++, no list of fields per line):
    no quotes anywhere (the caller checks), a good header, and every line after it a row
    with exactly the header's number of fields and not blank. Then each line is a row and
    its line number follows from its position. Returns what `_parse_records` does without
    the (empty) malformed rows, or None when the file is not such a case: the careful way
    then reads it, and gives the errors."""
    header_index, start = 0, 0
    while True:
        end = text.find("\n", start)
        if text[start : None if end < 0 else end].strip():
            break
        if end < 0:
            return None
        header_index, start = header_index + 1, end + 1
    if end < 0:
        return None
    header = text[start:end]
    delimiter = _choose_delimiter(header)
    names = [h.strip().lower() for h in header.split(delimiter)]
    if any(names.count(c) != 1 for c in columns):
        return None
    body = text[end + 1 :]
    if not body or body.startswith("\ufeff"):  # Arrow would drop a byte-order mark there
        return None
    width = len(names)
    names_in_file = [f"c{i}" for i in range(width)]
    data = body.encode(UTF8)
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(data),
            # one block: each column comes as one array, not chunks to copy together
            read_options=pa_csv.ReadOptions(
                use_threads=False, column_names=names_in_file, block_size=min(len(data) + 1, 2**31 - 1)
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                quote_char=False,
                escape_char=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
                invalid_row_handler=lambda row: "error",  # a line with another number of fields
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={c: pa.large_string() for c in names_in_file}, strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid:
        return None
    if table.num_rows == 0:
        return None
    fields = [table.column(i).combine_chunks() for i in range(width)]
    # A blank row (fields only of spaces) is not a row: the careful way sets it apart.
    candidates = np.flatnonzero(~np.asarray(pc.utf8_is_alnum(pc.utf8_slice_codeunits(fields[0], 0, 1)), dtype=bool))
    if len(candidates):
        chosen = pa.array(candidates)
        filled = np.zeros(len(candidates), dtype=bool)
        for field in fields:
            filled |= np.asarray(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(field.take(chosen))), 0), dtype=bool)
        if not filled.all():
            return None
    lines = np.arange(header_index + 2, header_index + 2 + table.num_rows, dtype=np.int64)
    values = {column: pc.utf8_trim_whitespace(fields[names.index(column)]) for column in columns}
    return header_index + 1, names, delimiter, lines, values


def _blank_records(records: pa.ListArray, lines: pa.Array | None = None) -> np.ndarray:
    """Records whose fields are all empty or whitespace. With the records' `lines` (plain
    text), only lines that do not begin with a letter or digit are looked at: a blank
    line is empty or begins with the delimiter or a space."""
    if lines is not None:
        candidates = np.flatnonzero(~np.asarray(pc.utf8_is_alnum(pc.utf8_slice_codeunits(lines, 0, 1)), dtype=bool))
        blank = np.zeros(len(records), dtype=bool)
        if len(candidates):
            blank[candidates] = _blank_records(records.take(pa.array(candidates)))
        return blank
    flat = pc.utf8_trim_whitespace(pc.list_flatten(records))
    filled = pc.greater(pc.utf8_length(flat), 0)
    parents = np.asarray(pc.list_parent_indices(records))
    nonempty = np.zeros(len(records), dtype=bool)
    if len(parents):
        nonempty[parents[np.asarray(filled, dtype=bool)]] = True
    return ~nonempty


def _records_plain(text: str, name: str):
    """No quote characters anywhere: a line is a record, split at the delimiter. The
    lines are split by Arrow, not into Python strings; also returns them (for the blank test)."""
    physical = pc.list_flatten(pc.split_pattern(pa.array([text], type=pa.large_string()), "\n"))
    header_index = None
    for i in range(len(physical)):
        if physical[i].as_py().strip():
            header_index = i
            break
    if header_index is None:
        raise UnreadableFileError(name, 1, "the file is empty")
    header = physical[header_index].as_py()
    delimiter = _choose_delimiter(header)
    names = [h.strip().lower() for h in header.split(delimiter)]
    body = physical.slice(header_index + 1)
    records = pc.split_pattern(body, delimiter)
    lines = np.arange(header_index + 2, header_index + 2 + len(body), dtype=np.int64)
    return header_index + 1, names, delimiter, lines, records, body


def _records_quoted(text: str, name: str):
    """Quoted fields: Python's csv module, tracking the line each record starts on."""
    first_line = next((line for line in text.split("\n", 50) if line.strip()), None)
    if first_line is None:
        raise UnreadableFileError(name, 1, "the file is empty")
    delimiter = _choose_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    starts: list[int] = []
    fields: list[list[str]] = []
    previous = 0
    header: list[str] | None = None
    header_line = 1
    try:
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if header is None:
                if any(f.strip() for f in record):
                    header, header_line = record, start
                continue
            starts.append(start)
            fields.append(record)
    except csv.Error as error:
        raise UnreadableFileError(name, reader.line_num, f"broken CSV quoting ({error})") from None
    if header is None:
        raise UnreadableFileError(name, 1, "the file is empty")
    names = [h.strip().lower() for h in header]
    records = pa.array(fields, type=pa.list_(pa.large_string()))
    return header_line, names, delimiter, np.array(starts, dtype=np.int64), records
