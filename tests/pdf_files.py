"""What a test needs to read from the PDFs Chromium prints: the pages' sizes and the text.

No PDF library is in the lock, and Chromium's PDFs are plain enough to read directly: objects
uncompressed except their streams (Flate), text drawn glyph by glyph from Type0 fonts
(`/F4 11.3 Tf`, `<0036> Tj`), each font with a ToUnicode CMap (`bfchar`, `bfrange`) that
maps its glyph codes to characters. Glyphs are placed one by one, so the text comes out
without the spaces between words: compare without whitespace.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

A4_POINTS = (595.0, 842.0)  # 210 x 297 mm
_OBJECT = re.compile(rb"(\d+) 0 obj\s*(?=<<)")
_STREAM = re.compile(rb"\s*stream\r?\n")


def _dictionary_end(data: bytes, start: int) -> int:
    """Where the dictionary opening at `start` ends: nested ones, hex and literal strings skipped."""
    depth, at = 0, start
    while True:
        if data.startswith(b"<<", at):
            depth, at = depth + 1, at + 2
        elif data.startswith(b">>", at):
            depth, at = depth - 1, at + 2
            if depth == 0:
                return at
        elif data[at] == ord("<"):
            at = data.index(b">", at) + 1
        elif data[at] == ord("("):
            nesting, at = 1, at + 1
            while nesting:
                if data[at] == ord("\\"):
                    at += 1
                elif data[at] == ord("("):
                    nesting += 1
                elif data[at] == ord(")"):
                    nesting -= 1
                at += 1
        else:
            at += 1


def _objects(data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number -> (its dictionary, its decompressed stream or None)."""
    objects = {}
    for match in _OBJECT.finditer(data):
        end = _dictionary_end(data, match.end())
        dictionary, stream = data[match.end() : end], None
        opening = _STREAM.match(data, end)
        if opening:
            length = int(re.search(rb"/Length (\d+)", dictionary).group(1))
            raw = data[opening.end() : opening.end() + length]
            stream = zlib.decompress(raw) if b"/FlateDecode" in dictionary else raw
        objects[int(match.group(1))] = (dictionary, stream)
    return objects


def page_sizes(pdf_path: Path) -> list[tuple[float, float]]:
    """(width, height) in points of every page, from its MediaBox."""
    sizes = []
    for dictionary, _ in _objects(Path(pdf_path).read_bytes()).values():
        if re.search(rb"/Type\s*/Page(?![A-Za-z])", dictionary):
            box = re.search(rb"/MediaBox\s*\[([^\]]*)\]", dictionary)
            x0, y0, x1, y1 = (float(number) for number in box.group(1).split())
            sizes.append((x1 - x0, y1 - y0))
    return sizes


def _cmap(text: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for code, unicode in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(code, 16)] = bytes.fromhex(unicode.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for first, last, target in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])", block):
            first, last = int(first, 16), int(last, 16)
            if target.startswith(b"<"):
                start = int(target[1:-1], 16)
                for offset in range(last - first + 1):
                    mapping[first + offset] = chr(start + offset)
            else:
                for offset, unicode in enumerate(re.findall(rb"<([0-9A-Fa-f]+)>", target)):
                    mapping[first + offset] = bytes.fromhex(unicode.decode()).decode("utf-16-be")
    return mapping


def pdf_text(pdf_path: Path) -> str:
    """The text of every page, glyph by glyph through the fonts' ToUnicode maps."""
    objects = _objects(Path(pdf_path).read_bytes())
    fonts: dict[bytes, dict[int, str]] = {}
    for dictionary, _ in objects.values():
        for font_dictionary in re.findall(rb"/Font\s*<<(.*?)>>", dictionary, re.S):
            for name, number in re.findall(rb"/(\w+)\s+(\d+) 0 R", font_dictionary):
                to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", objects[int(number)][0])
                mapping = _cmap(objects[int(to_unicode.group(1))][1]) if to_unicode else {}
                if fonts.setdefault(name, mapping) != mapping:
                    raise ValueError(f"font name /{name.decode()} means two fonts in {pdf_path}")
    parts: list[str] = []
    for dictionary, stream in objects.values():
        if stream is None or b"/Length1" in dictionary or b"Tf" not in stream:
            continue
        font: dict[int, str] = {}
        for operator in re.finditer(rb"/(\w+)\s+[\d.]+\s+Tf|<([0-9A-Fa-f]*)>\s*Tj|\[([^\]]*)\]\s*TJ", stream):
            if operator.group(1):
                font = fonts.get(operator.group(1), {})
                continue
            strings = [operator.group(2)] if operator.group(2) is not None else re.findall(rb"<([0-9A-Fa-f]*)>", operator.group(3))
            for hex_codes in strings:
                codes = bytes.fromhex(hex_codes.decode())
                parts.extend(font.get(int.from_bytes(codes[i : i + 2], "big"), "") for i in range(0, len(codes), 2))
    return "".join(parts)
