"""Figures of the open-question analyses; each takes an `ax` and returns it."""

from __future__ import annotations

from collections.abc import Callable

from matplotlib.axes import Axes

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


def question_drawing(name: str, r: StudyResults) -> Drawing:
    """How to draw the named figure (function, size in inches, bottom margin); KeyError if unknown."""
    q = r.questions
    if q is None:
        raise KeyError(name)
    if name == "time_to_response":
        ttr = q.time_to_response
        return (lambda ax: time_to_response_plot(ax, ttr)), (7.0, 4.8), 0.3
    raise KeyError(name)
