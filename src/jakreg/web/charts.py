"""Per-patient charts as server-rendered SVG strings (no JavaScript, no CDN). Pure: built from records.

Every chart of one patient shares one time axis (first to last dated record), so a dose step, a lab dip and an
adverse event line up vertically. Text from the data is escaped; each chart carries <title>/<desc> and labelled
axes. Thresholds are passed in (see `provisional_thresholds`); a line on a chart says "meets threshold X
(source Y)" in its label, never advice.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from jakreg.rules.units import UnknownAnalyteError, UnknownUnitError, convert

WIDTH, HEIGHT = 640, 170
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 22, 30
PROVISIONAL_SOURCE = "ruxolitinib/baricitinib label, provisional"


@dataclass(frozen=True)
class Threshold:
    analyte: str  # lab analyte code (rules/units.py)
    value: float  # in `unit`; for ×ULN rules, the multiple
    unit: str  # canonical unit, or "× ULN"
    direction: str  # "below" or "above"
    source: str

    @property
    def label(self) -> str:
        sign = "<" if self.direction == "below" else ">"
        return f"threshold {sign} {self.value:g} {self.unit} ({self.source})"


def provisional_thresholds() -> list[Threshold]:
    """Stand-in until rules/data/safety_signals.yaml exists: the label values of clinical_rules.md §4
    (baricitinib EU SmPC interruption values; ALT/AST 3× ULN), in jakreg's canonical units."""
    s = PROVISIONAL_SOURCE
    return [
        Threshold("neutrophils", 1.0, "10^9/L", "below", s),
        Threshold("lymphocytes", 0.5, "10^9/L", "below", s),
        Threshold("haemoglobin", 80.0, "g/L", "below", s),  # 8 g/dL
        Threshold("platelets", 50.0, "10^9/L", "below", s),
        Threshold("alt", 3.0, "× ULN", "above", s),
        Threshold("ast", 3.0, "× ULN", "above", s),
    ]


def thresholds_from_rules(rules: Any) -> list[Threshold]:
    """The chart lines of a safety-signal rule set (rules/data/safety_signals.yaml, `jakreg.rules.signals`):
    lab thresholds in jakreg's canonical units, ×ULN rules as multiples; each with its rule's source."""
    from jakreg.rules.units import conversion

    out: list[Threshold] = []
    for r in rules.rules:
        provisional = " [provisional]" if r.provisional else ""
        if r.kind == "lab_below" and r.analyte and r.threshold is not None and r.unit:
            factor, unit = conversion(r.analyte, r.unit)
            out.append(Threshold(r.analyte, r.threshold * factor, unit, "below",
                                 f"rule {r.id} v{r.version}{provisional}"))  # fmt: skip
        elif r.kind == "lab_above_reference" and r.analyte and r.multiple is not None:
            out.append(Threshold(r.analyte, r.multiple, "× ULN", "above",
                                 f"rule {r.id} v{r.version}{provisional}"))  # fmt: skip
    return out


@dataclass(frozen=True)
class Axis:
    start: dt.date
    end: dt.date

    def x(self, day: dt.date) -> float:
        span = max((self.end - self.start).days, 1)
        return LEFT + (day - self.start).days / span * (WIDTH - LEFT - RIGHT)


def y_of(value: float, top: float) -> float:
    """Vertical pixel for a value on a 0…top scale."""
    return TOP + (top - value) / top * (HEIGHT - TOP - BOTTOM)


def _e(text: Any) -> str:
    return escape(str(text), quote=True)


def y_ticks(top: float) -> list[float]:
    """Round values from 0 to ``top`` (steps of 1, 2 or 5 × a power of ten; 3 to 6 ticks)."""
    if top <= 0:
        return [0.0]
    raw = top / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return [round(i * step, 12) for i in range(int(top / step + 1e-9) + 1)]


def _y_axis(top: float) -> list[str]:
    """Tick marks and their values on the vertical axis (a chart is read, not only looked at)."""
    out = []
    for v in y_ticks(top):
        y = y_of(v, top)
        out.append(
            f'<line class="tick" x1="{LEFT - 4}" y1="{y:.2f}" x2="{LEFT}" y2="{y:.2f}" stroke="#333"/>'
            f'<text class="y-tick" x="{LEFT - 6}" y="{y + 3:.2f}" font-size="9" '
            f'text-anchor="end">{v:g}</text>'
        )
    return out


def _frame(chart_id: str, title: str, desc: str, y_label: str, axis: Axis, body: list[str],
           top: float | None = None) -> str:  # fmt: skip
    base = HEIGHT - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{_e(chart_id)}" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'aria-labelledby="{_e(chart_id)}-t {_e(chart_id)}-d">',
        f'<title id="{_e(chart_id)}-t">{_e(title)}</title>',
        f'<desc id="{_e(chart_id)}-d">{_e(desc)}</desc>',
        f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{WIDTH - RIGHT}" y2="{base}" stroke="#333"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#333"/>',
        f'<text class="x-label" x="{LEFT}" y="{HEIGHT - 4}" font-size="10">{_e(axis.start.isoformat())}</text>',
        f'<text class="x-label" x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" font-size="10" '
        f'text-anchor="end">{_e(axis.end.isoformat())}</text>',
        f'<text class="y-label" x="4" y="{TOP - 8}" font-size="10">{_e(y_label)}</text>',
    ]
    ticks = _y_axis(top) if top is not None else []
    return "".join(parts + ticks + body + ["</svg>"])


def _top(values: Sequence[float]) -> float:
    top = max(values, default=0.0)
    return top * 1.1 if top > 0 else 1.0


def line_chart(
    chart_id: str,
    title: str,
    y_label: str,
    points: Sequence[tuple[dt.date, float]],
    axis: Axis,
    thresholds: Sequence[Threshold] = (),
) -> str:
    """Dated values as a polyline with dots; each threshold a dashed horizontal line with its label."""
    top = _top([v for _, v in points] + [t.value for t in thresholds])
    coords = [(axis.x(d), y_of(v, top)) for d, v in points]
    body = []
    for t in thresholds:
        y = y_of(t.value, top)
        body.append(
            f'<line class="threshold" x1="{LEFT}" y1="{y:.2f}" x2="{WIDTH - RIGHT}" y2="{y:.2f}" '
            f'stroke="#b00" stroke-dasharray="4 3"><title>{_e(t.label)}</title></line>'
            f'<text class="threshold-label" x="{WIDTH - RIGHT}" y="{y - 2:.2f}" font-size="9" '
            f'text-anchor="end" fill="#b00">{_e(t.label)}</text>'
        )
    if coords:
        path = " ".join(f"{x:.2f},{y:.2f}" for x, y in coords)
        body.append(f'<polyline class="series" fill="none" stroke="#036" points="{path}"/>')
    for (d, v), (x, y) in zip(points, coords, strict=True):
        body.append(
            f'<circle class="point" cx="{x:.2f}" cy="{y:.2f}" r="3" fill="#036">'
            f"<title>{_e(d.isoformat())}: {v:g} {_e(y_label)}</title></circle>"
        )
    desc = f"{len(points)} values of {y_label} from {axis.start} to {axis.end}" + "".join(
        f"; {t.label}" for t in thresholds
    )
    return _frame(chart_id, title, desc, y_label, axis, body, top)


def step_chart(
    chart_id: str, title: str, y_label: str, steps: Sequence[tuple[dt.date, float]], axis: Axis
) -> str:
    """A value that holds until the next change (dose in mg/kg/day) as a step line to the axis end."""
    top = _top([v for _, v in steps])
    body = []
    if steps:
        pts: list[str] = []
        for i, (d, v) in enumerate(steps):
            x, y = axis.x(d), y_of(v, top)
            nxt = steps[i + 1][0] if i + 1 < len(steps) else axis.end
            pts += [f"{x:.2f},{y:.2f}", f"{axis.x(nxt):.2f},{y:.2f}"]
        body.append(
            f'<polyline class="series step" fill="none" stroke="#063" points="{" ".join(pts)}"/>'
        )
    desc = f"{len(steps)} dose changes in {y_label} from {axis.start} to {axis.end}"
    return _frame(chart_id, title, desc, y_label, axis, body, top)


def course_chart(
    chart_id: str,
    courses: Sequence[tuple[str, dt.date, dt.date | None]],
    events: Sequence[tuple[dt.date, str, int | None]],
    axis: Axis,
) -> str:
    """Treatment courses as bars (open courses run to the axis end) and adverse events as markers."""
    body = []
    for i, (label, start, stop) in enumerate(courses):
        x0, x1 = axis.x(start), axis.x(stop or axis.end)
        y = TOP + 4 + i * 22
        body.append(
            f'<rect class="course" x="{x0:.2f}" y="{y}" width="{max(x1 - x0, 1):.2f}" height="16" '
            f'fill="#9bd"><title>{_e(label)}: {_e(start)} to {_e(stop or "ongoing")}</title></rect>'
            f'<text x="{x0 + 2:.2f}" y="{y + 12}" font-size="10">{_e(label)}</text>'
        )
    base = HEIGHT - BOTTOM
    for day, term, grade in events:
        x = axis.x(day)
        g = "" if grade is None else f" grade {grade}"
        body.append(
            f'<path class="ae" d="M{x:.2f},{base - 14} l5,10 h-10 z" fill="#c60">'
            f"<title>{_e(day.isoformat())}: adverse event {_e(term)}{_e(g)}</title></path>"
        )
    desc = f"{len(courses)} treatment courses and {len(events)} adverse events"
    return _frame(
        chart_id, "Treatment courses and adverse events", desc, "courses / AEs", axis, body
    )


def _lab_value(lab: Any, threshold: Threshold | None) -> float | None:
    if threshold is not None and threshold.unit == "× ULN":
        return lab.value / lab.uln if lab.uln else None
    if lab.canonical_value is not None:
        return float(lab.canonical_value)
    try:
        return convert(lab.analyte, lab.value, lab.unit).value
    except (UnknownAnalyteError, UnknownUnitError):
        return None


LAB_CHARTS = [
    ("neutrophils", "ANC"),
    ("lymphocytes", "ALC"),
    ("haemoglobin", "Hb"),
    ("platelets", "Platelets"),
    ("alt", "ALT"),
    ("ast", "AST"),
]


def patient_charts(records: dict[str, list[Any]], thresholds: Sequence[Threshold]) -> list[str]:
    """Every chart for one patient on one shared time axis; empty when nothing is dated."""
    dates = [
        d
        for objs in records.values()
        for o in objs
        for d in (
            getattr(o, "date", None),
            getattr(o, "start_date", None),
            getattr(o, "stop_date", None),
            getattr(o, "onset_date", None),
        )
        if isinstance(d, dt.date)
    ]
    if not dates:
        return []
    axis = Axis(min(dates), max(dates))
    out = []
    idda = sorted(
        (a.date, float(a.total))
        for a in records.get("assessments", [])
        if str(a.score).upper().startswith("IDDA") and a.total is not None
    )
    if idda:
        out.append(line_chart("chart-idda", "IDDA over time", "IDDA total", idda, axis))
    doses = sorted(
        (d.date, float(d.mg_per_kg_day))
        for d in records.get("doses", [])
        if d.mg_per_kg_day is not None
    )
    if doses:
        out.append(step_chart("chart-dose", "Dose over time", "mg/kg/day", doses, axis))
    for code, name in LAB_CHARTS:
        ts = [t for t in thresholds if t.analyte == code]
        scale = ts[0] if ts else None
        pts = sorted(
            (lab.date, v)
            for lab in records.get("labs", [])
            if lab.analyte == code and (v := _lab_value(lab, scale)) is not None
        )
        if pts:
            unit = scale.unit if scale else _unit_of(records, code)
            out.append(
                line_chart(f"chart-{code}", f"{name} over time", f"{name} ({unit})", pts, axis, ts)
            )
    courses = [
        (f"Course {c.course_no}: {c.drug}", c.start_date, c.stop_date)
        for c in records.get("courses", [])
    ]
    events = [(ae.onset_date, ae.term, ae.grade) for ae in records.get("adverse_events", [])]
    if courses or events:
        out.append(course_chart("chart-courses", courses, events, axis))
    return out


def _unit_of(records: dict[str, list[Any]], code: str) -> str:
    for lab in records.get("labs", []):
        if lab.analyte == code:
            return str(lab.canonical_unit or lab.unit)
    return ""
