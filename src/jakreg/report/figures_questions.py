"""Figures of the open-question analyses; each takes an `ax` and returns it."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.axes import Axes

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


def question_drawing(name: str, r: StudyResults) -> Drawing:
    """How to draw the named figure (function, size in inches, bottom margin); KeyError if unknown."""
    q = r.questions
    if q is None:
        raise KeyError(name)
    if name == "time_to_response":
        ttr = q.time_to_response
        return (lambda ax: time_to_response_plot(ax, ttr)), (7.0, 4.8), 0.3
    if name == "idda_spaghetti":
        lon = q.longitudinal
        return (lambda ax: spaghetti_plot(ax, lon)), (7.0, 4.5), None
    raise KeyError(name)
