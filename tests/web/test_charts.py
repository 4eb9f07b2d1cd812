"""Per-patient SVG charts: well-formed XML, points where the arithmetic puts them, threshold lines with their
source, text from the data escaped."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from types import SimpleNamespace as Ns

import pytest

from jakreg.web import charts
from jakreg.web.charts import Axis, line_chart, patient_charts, provisional_thresholds

SVG = "{http://www.w3.org/2000/svg}"
D0 = dt.date(2024, 1, 1)


def _records() -> dict[str, list[object]]:
    lab = {"lln": None, "canonical_value": None, "canonical_unit": None}
    return {
        "courses": [Ns(course_no=1, drug="ruxolitinib", start_date=D0, stop_date=None)],
        "doses": [
            Ns(date=D0, mg_per_kg_day=0.5),
            Ns(date=D0 + dt.timedelta(days=50), mg_per_kg_day=1.0),
        ],
        "assessments": [
            Ns(date=D0, score="IDDA2.1", total=40.0),
            Ns(date=D0 + dt.timedelta(days=100), score="IDDA2.1", total=20.0),
        ],
        "labs": [
            Ns(date=D0, analyte="neutrophils", value=2000.0, unit="/µL", uln=None, **lab),
            Ns(
                date=D0 + dt.timedelta(days=25),
                analyte="haemoglobin",
                value=7.5,
                unit="g/dL",
                uln=None,
                **lab,
            ),
            Ns(
                date=D0 + dt.timedelta(days=25),
                analyte="alt",
                value=120.0,
                unit="U/L",
                uln=40.0,
                **lab,
            ),
        ],
        "adverse_events": [
            Ns(onset_date=D0 + dt.timedelta(days=30), term="<script>alert(1)</script>", grade=3)
        ],
    }


def _parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def test_every_chart_is_well_formed_svg_with_title_and_desc() -> None:
    out = patient_charts(_records(), provisional_thresholds())
    ids = [_parse(s).get("id") for s in out]
    assert ids == [
        "chart-idda", "chart-dose", "chart-neutrophils", "chart-haemoglobin", "chart-alt",
        "chart-courses",
    ]  # fmt: skip
    for svg in out:
        root = _parse(svg)
        assert root.find(f"{SVG}title") is not None
        assert root.find(f"{SVG}title").text
        assert root.find(f"{SVG}desc") is not None
        assert root.findall(f"{SVG}text[@class='y-label']")


def test_points_sit_at_computed_coordinates() -> None:
    axis = Axis(D0, D0 + dt.timedelta(days=100))
    svg = line_chart("c", "t", "IDDA total", [(D0, 40.0), (D0 + dt.timedelta(days=50), 10.0)], axis)
    circles = _parse(svg).findall(f"{SVG}circle")
    top = 40.0 * 1.1
    plot_w = charts.WIDTH - charts.LEFT - charts.RIGHT
    plot_h = charts.HEIGHT - charts.TOP - charts.BOTTOM
    expected = [
        (charts.LEFT + 0.0, charts.TOP + (top - 40.0) / top * plot_h),
        (charts.LEFT + 0.5 * plot_w, charts.TOP + (top - 10.0) / top * plot_h),
    ]
    got = [(float(c.get("cx")), float(c.get("cy"))) for c in circles]
    assert got == [pytest.approx(e, abs=0.01) for e in expected]


def test_labs_are_converted_to_canonical_units_and_alt_to_multiples_of_uln() -> None:
    out = {
        (_parse(s).get("id")): _parse(s)
        for s in patient_charts(_records(), provisional_thresholds())
    }
    (anc,) = out["chart-neutrophils"].findall(f"{SVG}circle")
    assert "2 ANC (10^9/L)" in anc.find(f"{SVG}title").text  # 2000 /µL = 2 ×10⁹/L
    (hb,) = out["chart-haemoglobin"].findall(f"{SVG}circle")
    assert "75 Hb (g/L)" in hb.find(f"{SVG}title").text  # 7.5 g/dL = 75 g/L
    (alt,) = out["chart-alt"].findall(f"{SVG}circle")
    assert "3 ALT (× ULN)" in alt.find(f"{SVG}title").text  # 120 / 40


def test_threshold_lines_are_drawn_with_value_and_source() -> None:
    out = {
        (_parse(s).get("id")): _parse(s)
        for s in patient_charts(_records(), provisional_thresholds())
    }
    expected = {
        "chart-neutrophils": "< 1 10^9/L",
        "chart-haemoglobin": "< 80 g/L",
        "chart-alt": "> 3 × ULN",
    }
    for chart_id, text in expected.items():
        (line,) = out[chart_id].findall(f"{SVG}line[@class='threshold']")
        label = line.find(f"{SVG}title").text
        assert text in label
        assert "ruxolitinib/baricitinib label, provisional" in label
    # the Hb line lies where 80 falls on that chart's scale (top = 1.1 × max(75, 80))
    (hb_line,) = out["chart-haemoglobin"].findall(f"{SVG}line[@class='threshold']")
    top = 88.0
    plot_h = charts.HEIGHT - charts.TOP - charts.BOTTOM
    assert float(hb_line.get("y1")) == pytest.approx(
        charts.TOP + (top - 80) / top * plot_h, abs=0.01
    )


def test_dose_is_a_step_line_to_the_axis_end() -> None:
    out = {
        (_parse(s).get("id")): _parse(s)
        for s in patient_charts(_records(), provisional_thresholds())
    }
    (step,) = out["chart-dose"].findall(f"{SVG}polyline")
    pts = [tuple(map(float, p.split(","))) for p in step.get("points").split()]
    assert len(pts) == 4
    assert pts[0][1] == pts[1][1]
    assert pts[2][1] == pts[3][1]
    assert pts[1][0] == pytest.approx(pts[2][0])  # the change is vertical
    assert pts[3][0] == pytest.approx(charts.WIDTH - charts.RIGHT)


def test_hostile_text_is_escaped() -> None:
    out = "".join(patient_charts(_records(), provisional_thresholds()))
    assert "<script>" not in out
    assert "&lt;script&gt;" in out
    courses = _parse(out[out.index('<svg xmlns="http://www.w3.org/2000/svg" id="chart-courses"') :])
    (ae,) = courses.findall(f"{SVG}path[@class='ae']")
    assert "<script>alert(1)</script>" in ae.find(f"{SVG}title").text  # the parser un-escapes it


def test_no_dated_records_no_charts() -> None:
    assert patient_charts({}, provisional_thresholds()) == []


def test_lines_come_from_the_shipped_safety_signal_rules() -> None:
    from jakreg.rules.signals import default_rules
    from jakreg.web.charts import thresholds_from_rules

    rules = default_rules()
    lines = {t.analyte: t for t in thresholds_from_rules(rules)}
    hb = next(r for r in rules.rules if r.id == "hb_low")
    assert hb.unit == "g/dL"
    assert lines["haemoglobin"].value == pytest.approx(hb.threshold * 10)  # 8 g/dL drawn as 80 g/L
    assert lines["haemoglobin"].unit == "g/L"
    assert lines["alt"].unit == "× ULN"
    assert "hb_low v" in lines["haemoglobin"].source


@pytest.mark.parametrize(
    ("top", "ticks"),
    [(44.0, [0, 20, 40]), (1.0, [0, 0.5, 1.0]), (1.1, [0, 0.5, 1.0]), (3.3, [0, 1, 2, 3]),
     (550.0, [0, 200, 400]), (0.044, [0, 0.02, 0.04]), (0.0, [0.0])],
)  # fmt: skip
def test_y_ticks_are_round_and_within_the_scale(top: float, ticks: list[float]) -> None:
    assert charts.y_ticks(top) == pytest.approx(ticks)


def test_line_chart_values_on_the_y_axis_where_the_scale_puts_them() -> None:
    axis = Axis(D0, D0 + dt.timedelta(days=100))
    svg = line_chart("c", "t", "IDDA total", [(D0, 40.0), (D0 + dt.timedelta(days=50), 10.0)], axis)
    texts = _parse(svg).findall(f"{SVG}text[@class='y-tick']")
    assert [t.text for t in texts] == ["0", "20", "40"]
    top = 40.0 * 1.1
    for t, value in zip(texts, (0, 20, 40), strict=True):
        assert float(t.get("y")) == pytest.approx(charts.y_of(value, top) + 3, abs=0.01)
