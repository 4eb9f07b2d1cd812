"""Figures of the open-question analyses; each takes an `ax` and returns it."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.axes import Axes

from jakreg.analysis.biomarkers import BiomarkerSection
from jakreg.analysis.dosing import DosingSection
from jakreg.analysis.longitudinal import BEFORE, UNDER, LongitudinalSection
from jakreg.analysis.results import StudyResults
from jakreg.analysis.time_to_response import TimeToResponseSection
from jakreg.stats.survival_plot import plot_cumulative_incidence

Drawing = tuple[Callable[[Axes], Axes], tuple[float, float], float | None]


def _empty(ax: Axes, text: str) -> Axes:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return ax


def time_to_response_plot(ax: Axes, section: TimeToResponseSection) -> Axes:
    """Cumulative incidence of a first CR/PR, with stopping before a response competing."""
    cif = section.cumulative_incidence
    if not cif.computable:
        return _empty(ax, "no responses or stops recorded")
    plot_cumulative_incidence(cif, ax)
    ax.set_xlabel("months since the start of the first course")
    ax.set_ylabel("cumulative incidence")
    ax.grid(alpha=0.3)
    return ax


MAX_SPAGHETTI = 200  # patients drawn at most (evenly spaced in pseudonym order)


def shown_patients(ids: list[str], cap: int = MAX_SPAGHETTI) -> list[str]:
    if len(ids) <= cap:
        return ids
    step = len(ids) / cap
    return [ids[int(i * step)] for i in range(cap)]


def spaghetti_plot(ax: Axes, section: LongitudinalSection) -> Axes:
    """One grey line per patient through their scores; before blue, under red; start at 0."""
    if not section.points:
        return _empty(ax, f"no {section.score} scores recorded")
    by: dict[str, list[tuple[float, float, str]]] = {}
    for p in section.points:
        by.setdefault(p.patient, []).append((p.months, p.total, p.period))
    shown = shown_patients(sorted(by))
    from matplotlib.collections import LineCollection

    lines = [[(m, t) for m, t, _ in sorted(by[pid])] for pid in shown]
    ax.add_collection(LineCollection(lines, colors="#888888", linewidths=0.8, alpha=0.6))
    for period, colour in ((BEFORE, "#1f77b4"), (UNDER, "#d62728")):
        xs = [m for pid in shown for m, _, q in by[pid] if q == period]
        ys = [t for pid in shown for _, t, q in by[pid] if q == period]
        ax.scatter(xs, ys, s=10, color=colour, label=period, zorder=3)
    other = [(m, t) for pid in shown for m, t, q in by[pid] if q not in (BEFORE, UNDER)]
    if other:
        ax.scatter([m for m, _ in other], [t for _, t in other], s=10, color="#999999",
                   marker="x", label="off drug")  # fmt: skip
    ax.axvline(0, color="black", linestyle="--", linewidth=1)
    ax.autoscale_view()
    ax.set_xlabel("months since the start of the first course")
    ax.set_ylabel(f"{section.score} total")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def dose_plot(ax: Axes, section: DosingSection, unit: str) -> Axes:
    """Dose over time, one line per course, coloured by drug (overlaid)."""
    from matplotlib.collections import LineCollection

    from jakreg.report.figures import DRUG_COLOURS

    attr = "mg_per_kg_day" if unit == "mg/kg/day" else "mg_per_m2_day"
    by: dict[tuple[str, int, str], list[tuple[float, float]]] = {}
    for p in section.points:
        value = getattr(p, attr)
        if value is not None:
            by.setdefault((p.patient, p.course_no, p.drug), []).append((p.months, value))
    if not by:
        return _empty(ax, f"no doses in {unit} recorded")
    drugs = sorted({k[2] for k in by})
    for drug in drugs:
        keys = sorted(k for k in by if k[2] == drug)
        shown = [
            keys[int(i * len(keys) / MAX_SPAGHETTI)] for i in range(min(len(keys), MAX_SPAGHETTI))
        ]
        lines = [sorted(by[k]) for k in shown]
        colour = DRUG_COLOURS.get(drug, "#555555")
        ax.add_collection(LineCollection(lines, colors=colour, linewidths=1.0, alpha=0.6,
                                         label=f"{drug} ({len(keys)} courses)"))  # fmt: skip
        ax.scatter([m for k in shown for m, _ in by[k]], [d for k in shown for _, d in by[k]],
                   s=8, color=colour)  # fmt: skip
    ax.autoscale_view()
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("months since the course start")
    ax.set_ylabel(unit)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def biomarker_plot(ax: Axes, section: BiomarkerSection) -> Axes:
    """Small multiples, one panel per marker (and unit): lines per patient, the lab's reference
    range shaded (the one most often reported), course start at 0."""
    from matplotlib.collections import LineCollection

    markers = section.markers
    if not markers:
        return _empty(ax, "no biomarkers recorded")
    fig = ax.get_figure()
    if fig is None:
        return _empty(ax, "no figure to draw on")
    ax.remove()
    cols = min(3, len(markers))
    rows = -(-len(markers) // cols)
    axes = fig.subplots(rows, cols, squeeze=False)
    for k, m in enumerate(markers):
        a = axes[k // cols][k % cols]
        by: dict[str, list[tuple[float, float]]] = {}
        for p in m.points:
            by.setdefault(p.patient, []).append((p.months, p.value))
        shown = shown_patients(sorted(by))
        a.add_collection(LineCollection([sorted(by[p]) for p in shown], colors="#555555",
                                        linewidths=0.8, alpha=0.7))  # fmt: skip
        a.scatter([x for p in shown for x, _ in by[p]], [y for p in shown for _, y in by[p]],
                  s=6, color="#1f77b4")  # fmt: skip
        a.axvline(0, color="black", linestyle="--", linewidth=0.8)
        a.autoscale_view()
        if m.reference_range is not None:
            bottom, top = a.get_ylim()
            lo, hi = m.reference_range
            a.axhspan(bottom if lo is None else lo, top if hi is None else hi, color="#2ca02c",
                      alpha=0.15, zorder=0)  # fmt: skip
        a.set_title(f"{m.marker} ({m.unit})", fontsize=8)
        a.tick_params(labelsize=7)
        a.grid(alpha=0.3)
    for k in range(len(markers), rows * cols):
        axes[k // cols][k % cols].set_axis_off()
    fig.supxlabel("months since the start of the first course", fontsize=8)
    return axes[0][0]  # type: ignore[no-any-return]


def question_drawing(name: str, r: StudyResults) -> Drawing:
    """How to draw the named figure (function, size in inches, bottom margin); KeyError if unknown."""
    q = r.questions
    if q is None:
        raise KeyError(name)
    if name == "time_to_response":
        ttr = q.time_to_response
        return (lambda ax: time_to_response_plot(ax, ttr)), (7.0, 4.8), 0.3
    if name in ("dose_kg", "dose_m2"):
        dosing, unit = q.dosing, ("mg/kg/day" if name == "dose_kg" else "mg/m²/day")
        return (lambda ax: dose_plot(ax, dosing, unit)), (7.0, 4.2), None
    if name == "biomarkers":
        bio = q.biomarkers
        rows = max(1, -(-len(bio.markers) // 3))
        return (lambda ax: biomarker_plot(ax, bio)), (9.0, 2.6 * rows), None
    if name == "idda_spaghetti":
        lon = q.longitudinal
        return (lambda ax: spaghetti_plot(ax, lon)), (7.0, 4.5), None
    raise KeyError(name)
