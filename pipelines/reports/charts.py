"""Inline SVG charts, drawn here in Python: no JavaScript, no library, no network.

Each chart is an accessible image (`role="img"` with a `<title>` and a `<desc>` that states
the figures in words), uses fills that stay distinguishable in grayscale (light to dark,
plus dash patterns and marker shapes for lines), and never draws a withheld figure: a
suppressed month is a hatched stub, and a month whose groups are partly suppressed is one
hatched bar of the published total, so no suppressed group can be read off the stack.

A series is drawn as one `<path>` per kind of mark (a layer's bars, its faded bars, the
hatched bars, a line's markers), one subpath per month, not as one element per month: after
twenty years a chart has some 200 months, and Chromium's layout and printing of a thousand
elements a chart was most of the cost of a regional PDF. Each such path lists the months it
draws and their published values, in the order of its subpaths, in `data-months` and
`data-values`, so the DOM still says which figure each mark shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache

from markupsafe import Markup, escape

from .content import Cell
from .formatting import raw_number

WIDTH = 760
PLOT_HEIGHT = 230
MARGIN_LEFT = 58
MARGIN_RIGHT = 30
MARGIN_BOTTOM = 34
FONT = 12
# Dark to light: the four layers stay apart when printed in grayscale.
LAYER_FILLS = ("#0b2e4f", "#2f6d9e", "#86b3d6", "#dce9f5")
LINE_STYLES = (
    {"stroke": "#0b2e4f", "dash": None, "marker": "circle"},
    {"stroke": "#a8432a", "dash": "7 4", "marker": "square"},
    {"stroke": "#4d4d4d", "dash": "2 3", "marker": "diamond"},
)
HATCH_STROKE = "#555"


@dataclass(frozen=True)
class Layer:
    key: str
    label: str
    cells: Sequence[Cell]


@dataclass(frozen=True)
class ReferenceLine:
    key: str  # 'target' or 'baseline': also the CSS class
    label: str  # the legend's and the line's label, e.g. 'Tavoite 2 244,5'
    value: float
    dash: str = "8 5"
    stroke: str = "#000"
    width: float = 2.0


@dataclass(frozen=True)
class Legends:
    """Localised labels for the parts a chart draws only when they occur."""

    suppressed: str
    groups_hidden: str = ""
    incomplete: str = ""


def nice_ticks(maximum: float, count: int = 5) -> list[float]:
    """0 and round steps (1, 2, 2.5 or 5 × 10^k) up to at least `maximum`."""
    if maximum is None or maximum <= 0 or not math.isfinite(maximum):
        return [0.0, 1.0]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(power * factor for factor in (1, 2, 2.5, 5, 10) if power * factor >= raw)
    top = math.ceil(maximum / step - 1e-9) * step
    return [round(index * step, 10) for index in range(int(round(top / step)) + 1)]


@dataclass(frozen=True)
class _Frame:
    """Where the plot sits and how values and months map to it."""

    top: float
    height: float
    months: int
    y_max: float

    @property
    def left(self) -> float:
        return MARGIN_LEFT

    # Cached: x and y are asked for every month of every series (some 200 months after twenty years).
    @cached_property
    def width(self) -> float:
        return WIDTH - MARGIN_LEFT - MARGIN_RIGHT

    @cached_property
    def bottom(self) -> float:
        return self.top + self.height

    @cached_property
    def band(self) -> float:
        return self.width / max(self.months, 1)

    def x(self, index: int) -> float:
        """Centre of month `index`'s band."""
        return self.left + (index + 0.5) * self.band

    def x_texts(self, shift: float = 0.0) -> tuple[str, ...]:
        """Every month's x + `shift`, formatted: the same in every chart of the same length."""
        return _x_texts(self.months, shift)

    def y(self, value: float) -> float:
        return self.bottom - (value / self.y_max) * self.height if self.y_max else self.bottom


def _f(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".")


@lru_cache(maxsize=64)
def _x_texts(months: int, shift: float) -> tuple[str, ...]:
    frame = _Frame(top=0.0, height=0.0, months=months, y_max=0.0)  # x depends on the months only
    return tuple(_f(frame.x(index) + shift) for index in range(months))


@lru_cache(maxsize=4096)
def _month_key(month: date) -> str:
    return f"{month:%Y-%m}"


@dataclass
class _Marks:
    """One path of a chart: a subpath per month it draws, with the months and their values."""

    attributes: str  # class, fill, stroke, opacity...: what every mark of the path shares
    commands: list[str] = field(default_factory=list)
    months: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)

    def add(self, commands: str, month: date, value: float | None) -> None:
        self.commands.append(commands)
        self.months.append(_month_key(month))
        if value is not None:
            self.values.append(raw_number(value))

    def markup(self) -> str:
        if not self.commands:
            return ""
        values = f' data-values="{" ".join(self.values)}"' if self.values else ""
        return (
            f'<path {self.attributes} data-months="{" ".join(self.months)}"{values} '
            f'd="{"".join(self.commands)}"/>'
        )


def _rect_commands(x: str, top: str, width: str, bottom: str) -> str:
    """A rectangle as a closed subpath, from its formatted left, top, width and bottom."""
    return f"M{x} {top}h{width}V{bottom}h-{width}Z"


# The subpath of one marker after "M<x> <y>" (its centre, as the line passes it): the shapes
# `_marker` draws as elements, relative to the centre.
MARKER_COMMANDS = {
    "circle": "m-2.8 0a2.8 2.8 0 1 0 5.6 0a2.8 2.8 0 1 0 -5.6 0Z",
    "square": "m-2.6 -2.6h5.2v5.2h-5.2Z",
    "diamond": "m0 -3.5l3.5 3.5l-3.5 3.5l-3.5 -3.5Z",
}


def _marker_paint(shape: str, colour: str) -> str:
    """Fill and stroke of a marker shape, as `_marker` paints it."""
    if shape == "square":
        return f'fill="#fff" stroke="{colour}" stroke-width="1.5"'
    return f'fill="{colour}"'


def _text(x, y, content, *, size=FONT, anchor="start", cls="", weight=None, halo=False) -> str:
    attributes = [f'x="{_f(x)}"', f'y="{_f(y)}"', f'font-size="{size}"', f'text-anchor="{anchor}"', 'fill="#111"']
    if cls:
        attributes.append(f'class="{cls}"')
    if weight:
        attributes.append(f'font-weight="{weight}"')
    if halo:
        attributes.append('stroke="#fff" stroke-width="3" paint-order="stroke" stroke-linejoin="round"')
    return f"<text {' '.join(attributes)}>{escape(content)}</text>"


def _text_width(content: str, size: int = FONT) -> float:
    return len(content) * size * 0.56


def _legend(items: list[tuple[Callable[[float, float], str], str]], y: float) -> tuple[list[str], float]:
    """Lay swatches and labels in rows; returns the markup and the y below the legend.

    A swatch is drawn by a function of the item's left edge and the label's baseline.
    """
    parts: list[str] = ['<g class="legend">']
    x = MARGIN_LEFT
    row_height = 18
    for swatch, label in items:
        needed = 22 + _text_width(label) + 16
        if x + needed > WIDTH - MARGIN_RIGHT and x > MARGIN_LEFT:
            x = MARGIN_LEFT
            y += row_height
        parts.append(swatch(x, y))
        parts.append(_text(x + 22, y, label, cls="legend-label"))
        x += needed
    parts.append("</g>")
    return parts, y + 12


def _swatch_rect(fill: str, extra: str = "") -> Callable[[float, float], str]:
    def draw(x: float, y: float) -> str:
        return (
            f'<rect x="{_f(x)}" y="{_f(y - 10)}" width="18" height="12" fill="{fill}" stroke="#333" '
            f'stroke-width="0.6"{extra}/>'
        )

    return draw


def _swatch_line(stroke: str, dash: str | None, width: float = 2, marker: str | None = None):
    def draw(x: float, y: float) -> str:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        line = (
            f'<line x1="{_f(x)}" y1="{_f(y - 4)}" x2="{_f(x + 18)}" y2="{_f(y - 4)}" stroke="{stroke}" '
            f'stroke-width="{width}"{dash_attr}/>'
        )
        if marker:
            line += _marker(marker, x + 9, y - 4, stroke)
        return line

    return draw


def _swatch_text(symbol: str) -> Callable[[float, float], str]:
    def draw(x: float, y: float) -> str:
        return _text(x + 9, y, symbol, anchor="middle", weight="bold")

    return draw


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    """One marker as an element: the legend's swatch (a line's markers are `MARKER_COMMANDS`)."""
    paint = _marker_paint(shape, colour)
    if shape == "square":
        return f'<rect x="{_f(x - 2.6)}" y="{_f(y - 2.6)}" width="5.2" height="5.2" {paint}/>'
    if shape == "diamond":
        return (
            f'<path d="M{_f(x)} {_f(y - 3.5)}L{_f(x + 3.5)} {_f(y)}L{_f(x)} {_f(y + 3.5)}'
            f'L{_f(x - 3.5)} {_f(y)}Z" {paint}/>'
        )
    return f'<circle cx="{_f(x)}" cy="{_f(y)}" r="2.8" {paint}/>'


def _hatch_pattern(pattern_id: str) -> str:
    return (
        f'<pattern id="{pattern_id}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" fill="#fff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{HATCH_STROKE}" stroke-width="2"/>'
        "</pattern>"
    )


def _axes(frame: _Frame, ticks: list[float], months: Sequence[date], value_label, month_label, year_label) -> list[str]:
    parts = ['<g class="y-axis">']
    for tick in ticks:
        y = frame.y(tick)
        parts.append(
            f'<line x1="{_f(frame.left)}" y1="{_f(y)}" x2="{_f(frame.left + frame.width)}" y2="{_f(y)}" '
            f'stroke="{"#333" if tick == 0 else "#d0d0d0"}" stroke-width="{1 if tick == 0 else 0.6}"/>'
        )
        parts.append(_text(frame.left - 6, y + 4, value_label(tick), anchor="end", cls="tick"))
    parts.append("</g>")
    parts.append('<g class="x-axis">')
    for index, label in _month_ticks(months, month_label, year_label):
        x = frame.x(index)
        parts.append(
            f'<line x1="{_f(x)}" y1="{_f(frame.bottom)}" x2="{_f(x)}" y2="{_f(frame.bottom + 4)}" stroke="#333"/>'
        )
        parts.append(_text(x, frame.bottom + 17, label, anchor="middle", cls="tick"))
    parts.append("</g>")
    return parts


def _month_ticks(months: Sequence[date], month_label, year_label) -> list[tuple[int, str]]:
    """The first and last month with month and year, every January in between with its year."""
    if not months:
        return []
    count = len(months)
    minimum_gap = max(3, math.ceil(count / 14))
    ticks = [(0, month_label(months[0]))]
    last = count - 1
    for index, month in enumerate(months):
        if index == 0 or index == last:
            continue
        if month.month == 1 and index - ticks[-1][0] >= minimum_gap and last - index >= minimum_gap:
            ticks.append((index, year_label(month)))
        elif count <= 15 and month.month in (4, 7, 10) and index - ticks[-1][0] >= 2 and last - index >= 2:
            ticks.append((index, month_label(month)))
    if last > 0:
        ticks.append((last, month_label(months[last])))
    return ticks


def _open_svg(chart_id: str, height: float, title: str, description: str, kind: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" id="{chart_id}" '
        f'viewBox="0 0 {WIDTH} {_f(height)}" width="100%" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def _reference_lines(frame: _Frame, lines: Sequence[ReferenceLine]) -> list[str]:
    parts = ['<g class="reference-lines">']
    placed: list[float] = []
    for line in lines:
        y = frame.y(line.value)
        parts.append(
            f'<line class="reference {line.key}" x1="{_f(frame.left)}" y1="{_f(y)}" '
            f'x2="{_f(frame.left + frame.width)}" y2="{_f(y)}" stroke="{line.stroke}" '
            f'stroke-width="{line.width}" stroke-dasharray="{line.dash}" data-value="{raw_number(line.value)}"/>'
        )
        label_y = y - 5
        if any(abs(label_y - other) < 14 for other in placed):
            label_y = y + 15
        placed.append(label_y)
        parts.append(
            _text(
                frame.left + frame.width - 4,
                label_y,
                line.label,
                anchor="end",
                cls=f"reference-label {line.key}",
                weight="bold",
                halo=True,
            )
        )
    parts.append("</g>")
    return parts


def _marker_month(frame: _Frame, months: Sequence[date], marker: tuple[date, str] | None) -> list[str]:
    """A dotted vertical line at the target month, labelled just above the plot."""
    if marker is None or marker[0] not in months:
        return []
    index = list(months).index(marker[0])
    x = frame.x(index)
    right_half = index > len(months) / 2
    return [
        f'<line class="marker-month" x1="{_f(x)}" y1="{_f(frame.top - 12)}" x2="{_f(x)}" y2="{_f(frame.bottom)}" '
        'stroke="#000" stroke-width="1" stroke-dasharray="2 3"/>',
        _text(
            x - 4 if right_half else x + 4,
            frame.top - 4,
            marker[1],
            anchor="end" if right_half else "start",
            size=11,
            cls="marker-label",
            halo=True,
        ),
    ]


def stacked_bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    months: Sequence[date],
    layers: Sequence[Layer],
    totals: Sequence[Cell],
    reference_lines: Sequence[ReferenceLine] = (),
    marker: tuple[date, str] | None = None,
    value_label: Callable[[float], str],
    month_label: Callable[[date], str],
    year_label: Callable[[date], str],
    legends: Legends,
) -> Markup:
    """Monthly bars, each the stack of `layers` (bottom first); one layer makes a plain bar chart.

    A month draws its layers only where every layer is published; where the total is
    published but a layer is not, one hatched bar of the total; where the total is
    suppressed, a short hatched stub (no height is shown for it).
    """
    layer_hidden = any(
        total.value is not None and any(layer.cells[i].value is None for layer in layers)
        for i, total in enumerate(totals)
    )
    suppressed = any(total.value is None and total.status == "suppressed" for total in totals)
    incomplete = any(total.status == "incomplete" for total in totals)

    legend_items = [(_swatch_rect(LAYER_FILLS[i % len(LAYER_FILLS)]), layer.label) for i, layer in enumerate(layers)]
    hatch_id = f"{chart_id}-hatch"
    if len(layers) > 1 and layer_hidden:
        legend_items.append((_swatch_rect(f"url(#{hatch_id})"), legends.groups_hidden))
    if suppressed:
        legend_items.append((_swatch_rect(f"url(#{hatch_id})"), legends.suppressed))
    if incomplete and legends.incomplete:
        legend_items.append((_swatch_rect("#2f6d9e", ' opacity="0.45"'), legends.incomplete))
    for line in reference_lines:
        legend_items.append((_swatch_line(line.stroke, line.dash, line.width), line.label))
    legend, legend_bottom = _legend(legend_items, 16)

    maxima = [total.value for total in totals if total.value is not None]
    maxima += [line.value for line in reference_lines]
    ticks = nice_ticks(max(maxima) if maxima else 0)
    frame = _Frame(top=legend_bottom + (22 if marker else 8), height=PLOT_HEIGHT, months=len(months), y_max=ticks[-1])
    height = frame.bottom + MARGIN_BOTTOM

    parts = _open_svg(chart_id, height, title, description, "bars")
    parts.append(f"<defs>{_hatch_pattern(hatch_id)}</defs>")
    parts += legend
    parts += _axes(frame, ticks, months, value_label, month_label, year_label)
    bar_width = frame.band * (0.78 if len(months) > 1 else 0.4)
    width = _f(bar_width)
    stub = 6.0
    fade = ' opacity="0.45"'
    hatch = f'fill="url(#{hatch_id})" stroke="{HATCH_STROKE}" stroke-width="0.6"'
    # The paths in the order they are drawn: each layer (bottom first), then the hatched bars.
    # Months do not overlap, so drawing path by path instead of month by month looks the same.
    layer_marks = []
    for layer_index, layer in enumerate(layers):
        fill = LAYER_FILLS[layer_index % len(LAYER_FILLS)]
        # The lightest fill gets an outline, so it stays visible on white paper.
        outline = ' stroke="#0b2e4f" stroke-width="0.4"' if layer_index % len(LAYER_FILLS) == 3 else ""
        shared = f'class="bar" data-series="{layer.key}" fill="{fill}"{outline}'
        layer_marks.append((_Marks(shared), _Marks(shared + fade)))
    hidden = (_Marks(f'class="bar-groups-hidden" {hatch}'), _Marks(f'class="bar-groups-hidden" {hatch}{fade}'))
    stubs = _Marks(f'class="bar-suppressed" {hatch}')
    lefts = frame.x_texts(-bar_width / 2)
    zero = _f(frame.y(0.0))
    stub_top = _f(frame.bottom - stub)
    for index, (month, total) in enumerate(zip(months, totals, strict=True)):
        x = lefts[index]
        faded = total.status == "incomplete"
        if total.value is None:
            if total.status == "suppressed":
                stubs.add(_rect_commands(x, stub_top, width, zero), month, None)
            continue
        if any(layer.cells[index].value is None for layer in layers):
            top = _f(frame.y(total.value))
            if top != zero:  # an element of no height drew nothing, and neither does this
                hidden[faded].add(_rect_commands(x, top, width, zero), month, total.value)
            continue
        # Each layer ends where the next begins: one formatted y per edge, shared by both.
        base, y_bottom = 0.0, zero
        for layer, marks in zip(layers, layer_marks, strict=True):
            value = layer.cells[index].value
            base += value
            y_top = _f(frame.y(base))
            if y_top != y_bottom:
                marks[faded].add(_rect_commands(x, y_top, width, y_bottom), month, value)
            y_bottom = y_top
    parts.append('<g class="bars">')
    for marks in (*(m for pair in layer_marks for m in pair), *hidden, stubs):
        if marks.commands:
            parts.append(marks.markup())
    parts.append("</g>")
    parts += _marker_month(frame, months, marker)
    parts += _reference_lines(frame, reference_lines)
    parts.append("</svg>")
    return Markup("\n".join(parts))


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    cells: Sequence[Cell]


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    months: Sequence[date],
    lines: Sequence[Line],
    reference_lines: Sequence[ReferenceLine] = (),
    value_label: Callable[[float], str],
    month_label: Callable[[date], str],
    year_label: Callable[[date], str],
    legends: Legends,
) -> Markup:
    """Monthly lines from 0, a marker at each published month; a withheld month breaks the line."""
    legend_items = []
    for index, line in enumerate(lines):
        style = LINE_STYLES[index % len(LINE_STYLES)]
        legend_items.append((_swatch_line(style["stroke"], style["dash"], 2.2, style["marker"]), line.label))
    suppressed = any(cell.status == "suppressed" for line in lines for cell in line.cells)
    if suppressed:
        legend_items.append((_swatch_text(".."), legends.suppressed))
    for reference in reference_lines:
        legend_items.append((_swatch_line(reference.stroke, reference.dash, reference.width), reference.label))
    legend, legend_bottom = _legend(legend_items, 16)

    values = [cell.value for line in lines for cell in line.cells if cell.value is not None]
    values += [reference.value for reference in reference_lines]
    ticks = nice_ticks(max(values) if values else 0)
    frame = _Frame(top=legend_bottom + 8, height=PLOT_HEIGHT * 0.85, months=len(months), y_max=ticks[-1])
    height = frame.bottom + MARGIN_BOTTOM

    parts = _open_svg(chart_id, height, title, description, "lines")
    parts += legend
    parts += _axes(frame, ticks, months, value_label, month_label, year_label)
    parts += _reference_lines(frame, reference_lines)
    xs = frame.x_texts()
    for index, line in enumerate(lines):
        style = LINE_STYLES[index % len(LINE_STYLES)]
        parts.append(f'<g class="series" data-series="{line.key}">')
        # Each published month's point, formatted once: the line passes it and its marker sits on it.
        segments: list[list[str]] = [[]]
        suppressed_marks: list[str] = []
        paint = _marker_paint(style["marker"], style["stroke"])
        points = (_Marks(f'class="points" {paint}'), _Marks(f'class="points" {paint} opacity="0.45"'))
        shape = MARKER_COMMANDS[style["marker"]]
        for month_index, (month, cell) in enumerate(zip(months, line.cells, strict=True)):
            if cell.value is None:
                if segments[-1]:
                    segments.append([])
                if cell.status == "suppressed":
                    mark = _text(frame.x(month_index), frame.bottom - 4, "..", size=10, anchor="middle",
                                 cls="suppressed-mark")
                    suppressed_marks.append(mark)
                continue
            point = f"{xs[month_index]} {_f(frame.y(cell.value))}"
            segments[-1].append(point)
            points[cell.status == "incomplete"].add(f"M{point}{shape}", month, cell.value)
        dash = f' stroke-dasharray="{style["dash"]}"' if style["dash"] else ""
        for segment in segments:
            if len(segment) > 1:
                parts.append(
                    f'<path class="line" d="M{"L".join(segment)}" fill="none" stroke="{style["stroke"]}" '
                    f'stroke-width="2.2"{dash}/>'
                )
        parts += suppressed_marks
        parts += [marks.markup() for marks in points if marks.commands]
        parts.append("</g>")
    parts.append("</svg>")
    return Markup("\n".join(parts))


def progress_bar(progress_pct: float | None, label: str, chart_id: str) -> Markup:
    """A small bar: the share of the way from the baseline to the target (100 % = reached)."""
    width, height, inner = 134, 22, 130
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="progress" id="{chart_id}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<rect x="0.5" y="4.5" width="{inner}" height="13" fill="#fff" stroke="#333"/>',
    ]
    if progress_pct is not None:
        filled = max(0.0, min(progress_pct, 100.0)) / 100 * inner
        parts.append(f'<rect class="progress-fill" x="0.5" y="4.5" width="{_f(filled)}" height="13" fill="#2f6d9e"/>')
    parts.append(f'<line x1="{inner + 0.5}" y1="1" x2="{inner + 0.5}" y2="21" stroke="#000" stroke-width="2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
