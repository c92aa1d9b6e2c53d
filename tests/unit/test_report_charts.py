"""The SVG chart builder: bars, points and scales, and what it does with withheld figures."""

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest

from pipelines.core.months import shift_month
from pipelines.reports import charts
from pipelines.reports.content import Cell

SVG = "{http://www.w3.org/2000/svg}"
LEGENDS = charts.Legends(suppressed="Salattu (..)", groups_hidden="Ryhmittely salattu (..)", incomplete="Vajaa")


def months(count, start=date(2008, 2, 1)):
    return [shift_month(start, index) for index in range(count)]


def ok(*values):
    return [Cell(float(value), "ok") for value in values]


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


def rects(svg, cls):
    return [element for element in svg.iter(f"{SVG}rect") if element.get("class") == cls]


def paths(svg, cls):
    return [element for element in svg.iter(f"{SVG}path") if element.get("class") == cls]


RECT = re.compile(r"M([-\d.]+) ([-\d.]+)h([\d.]+)V([-\d.]+)h-\3Z")  # left, top, width, bottom


def bars(path) -> dict[str, dict]:
    """A path of bars, month by month: its rectangle (x, y, width, height) and published value."""
    shapes = [tuple(float(number) for number in shape) for shape in RECT.findall(path.get("d"))]
    assert RECT.sub("", path.get("d")) == ""  # nothing but rectangles
    months = path.get("data-months").split()
    values = (path.get("data-values") or "").split() or [None] * len(months)
    assert len(shapes) == len(months) == len(values)
    return {
        month: {"x": x, "y": top, "width": width, "height": bottom - top, "value": value}
        for month, (x, top, width, bottom), value in zip(months, shapes, values, strict=True)
    }


def stacked(layers, totals, count, **extra):
    return parse(
        charts.stacked_bar_chart(
            chart_id="c",
            title="Otsikko",
            description="Kuvaus",
            months=months(count),
            layers=layers,
            totals=totals,
            value_label=str,
            month_label=lambda m: f"{m.month}/{m.year}",
            year_label=lambda m: str(m.year),
            legends=LEGENDS,
            **extra,
        )
    )


def test_nice_ticks_cover_the_maximum_in_round_steps():
    assert charts.nice_ticks(4489) == [0, 1000, 2000, 3000, 4000, 5000]
    assert charts.nice_ticks(23) == [0, 5, 10, 15, 20, 25]
    assert charts.nice_ticks(100) == [0, 20, 40, 60, 80, 100]
    assert charts.nice_ticks(0) == [0.0, 1.0]
    assert charts.nice_ticks(7.2)[-1] >= 7.2


def test_a_stacked_chart_draws_one_path_per_layer_with_a_bar_per_month_scaled_to_the_axis():
    count = 6
    layers = [charts.Layer(f"g{i}", f"Ryhmä {i}", ok(*[100 * (i + 1)] * count)) for i in range(4)]
    totals = ok(*[1000] * count)  # 100 + 200 + 300 + 400
    svg = stacked(layers, totals, count)
    layer_paths = {path.get("data-series"): bars(path) for path in paths(svg, "bar")}
    assert list(layer_paths) == ["g0", "g1", "g2", "g3"]
    assert all(len(months_drawn) == count for months_drawn in layer_paths.values())
    first = {key: months_drawn["2008-02"] for key, months_drawn in layer_paths.items()}
    assert [bar["value"] for bar in first.values()] == ["100", "200", "300", "400"]
    # the axis runs to 1000 over PLOT_HEIGHT pixels: a value of 100 is a tenth of it
    assert first["g0"]["height"] == pytest.approx(charts.PLOT_HEIGHT / 10, abs=0.1)
    assert first["g3"]["height"] == pytest.approx(charts.PLOT_HEIGHT * 0.4, abs=0.1)
    assert sum(bar["height"] for bar in first.values()) == pytest.approx(charts.PLOT_HEIGHT, abs=0.3)
    # stacked: each layer starts where the one below ends
    for below, above in zip(first.values(), list(first.values())[1:], strict=False):
        assert above["y"] + above["height"] == pytest.approx(below["y"], abs=0.2)
    # months left to right, one band apart
    xs = [bar["x"] for bar in layer_paths["g0"].values()]
    assert xs == sorted(xs) and len(set(xs)) == count


def test_the_number_of_elements_does_not_grow_with_the_months():
    """A chart of twenty years costs the browser about what one of a year does: its marks are
    one path per series, not one element per month."""

    def elements(count):
        layers = [charts.Layer(f"g{i}", f"Ryhmä {i}", ok(*[10 * (i + 1)] * count)) for i in range(4)]
        bars_svg = stacked(layers, ok(*[100] * count), count)
        lines_svg = parse(
            charts.line_chart(
                chart_id="l",
                title="T",
                description="D",
                months=months(count),
                lines=[charts.Line("a", "A", ok(*range(count))), charts.Line("b", "B", ok(*range(count)))],
                value_label=str,
                month_label=lambda m: f"{m.month}/{m.year}",
                year_label=lambda m: str(m.year),
                legends=LEGENDS,
            )
        )
        return sum(1 for svg in (bars_svg, lines_svg) for element in svg.iter() if element.tag != f"{SVG}text")

    # the x axis gains a tick line a year shown (at most 14 of them); the marks gain nothing
    assert elements(240) - elements(12) <= 2 * 14


def test_the_chart_is_an_accessible_image_with_title_and_description():
    svg = stacked([charts.Layer("a", "A", ok(1, 2))], ok(1, 2), 2)
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c-title c-desc"
    assert svg.find(f"{SVG}title").text == "Otsikko"
    assert svg.find(f"{SVG}desc").text == "Kuvaus"


def test_withheld_groups_make_one_hatched_bar_and_a_suppressed_total_a_stub():
    layers = [
        charts.Layer("a", "A", [Cell(10.0, "ok"), Cell(None, "suppressed"), Cell(None, "suppressed")]),
        charts.Layer("b", "B", [Cell(20.0, "ok"), Cell(None, "suppressed"), Cell(None, "suppressed")]),
    ]
    totals = [Cell(30.0, "ok"), Cell(7.0, "ok"), Cell(None, "suppressed")]
    svg = stacked(layers, totals, 3)
    assert [list(bars(path)) for path in paths(svg, "bar")] == [["2008-02"], ["2008-02"]]  # only the first month
    (hidden,) = paths(svg, "bar-groups-hidden")
    assert [(month, bar["value"]) for month, bar in bars(hidden).items()] == [("2008-03", "7")]  # the total only
    (stubs,) = paths(svg, "bar-suppressed")
    assert list(bars(stubs)) == ["2008-04"] and stubs.get("data-values") is None
    legend = " ".join(text.text for text in svg.iter(f"{SVG}text") if text.get("class") == "legend-label")
    assert "Ryhmittely salattu (..)" in legend and "Salattu (..)" in legend


def test_reference_lines_sit_at_their_values():
    svg = stacked(
        [charts.Layer("a", "A", ok(400, 300))],
        ok(400, 300),
        2,
        reference_lines=[charts.ReferenceLine("target", "Tavoite 200", 200.0)],
    )
    line = next(e for e in svg.iter(f"{SVG}line") if (e.get("class") or "").startswith("reference"))
    bar = next(b for b in bars(paths(svg, "bar")[0]).values() if b["value"] == "400")
    bottom = bar["y"] + bar["height"]
    # ticks run to 400: the target of 200 is half way up
    assert float(line.get("y1")) == pytest.approx(bottom - charts.PLOT_HEIGHT / 2, abs=0.2)
    assert line.get("data-value") == "200"


def test_a_line_chart_has_one_marker_per_published_month_and_breaks_at_withheld_ones():
    cells = ok(10, 12, 14) + [Cell(None, "suppressed")] + ok(9, 8)
    svg = parse(
        charts.line_chart(
            chart_id="l",
            title="T",
            description="D",
            months=months(6),
            lines=[charts.Line("a", "A", cells), charts.Line("b", "B", ok(1, 2, 3, 4, 5, 6))],
            value_label=str,
            month_label=str,
            year_label=str,
            legends=LEGENDS,
        )
    )
    series = {group.get("data-series"): group for group in svg.iter(f"{SVG}g") if group.get("data-series")}
    (points_a,) = [e for e in series["a"] if e.get("class") == "points"]
    (points_b,) = [e for e in series["b"] if e.get("class") == "points"]
    assert points_a.get("data-months").split() == ["2008-02", "2008-03", "2008-04", "2008-06", "2008-07"]
    assert points_a.get("data-values").split() == ["10", "12", "14", "9", "8"]
    assert len(points_b.get("data-months").split()) == 6
    assert len([e for e in series["a"] if e.get("class") == "line"]) == 2  # broken at the withheld month
    assert [e.text for e in series["a"] if e.get("class") == "suppressed-mark"] == [".."]
    # markers differ in shape between the series (grayscale printing): circles, then white squares
    assert points_a.get("d").count("a2.8 2.8") == 2 * 5 and points_a.get("fill") != "#fff"
    assert points_b.get("d").count("h5.2v5.2h-5.2Z") == 6 and points_b.get("fill") == "#fff"
    # each marker is centred on its point of the line
    (line_b,) = [e for e in series["b"] if e.get("class") == "line"]
    assert re.findall(r"M([-\d.]+ [-\d.]+)m", points_b.get("d")) == line_b.get("d")[1:].split("L")


def test_progress_bar_fills_its_share_and_clamps():
    def filled(progress):
        svg = parse(charts.progress_bar(progress, "Edistyminen", "p"))
        fills = rects(svg, "progress-fill")
        return float(fills[0].get("width")) if fills else None

    assert filled(50) == pytest.approx(65)
    assert filled(150) == pytest.approx(130)
    assert filled(-20) == pytest.approx(0)
    assert filled(None) is None
