"""Plots of drug-survival results on a caller's matplotlib axes (no figures made, no plt.show)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.transforms import blended_transform_factory

from jakreg.stats.survival import (
    CumulativeIncidenceResult,
    KaplanMeierResult,
    StepCurve,
    ValueAtTime,
)

# How far below the axis (in axes fractions) the at-risk rows start and how far apart they are.
AT_RISK_TOP = -0.2
AT_RISK_ROW = 0.07


def _band(curve: StepCurve) -> tuple[np.ndarray, np.ndarray]:
    lower = np.array([np.nan if v is None else v for v in curve.ci_lower], dtype=float)
    upper = np.array([np.nan if v is None else v for v in curve.ci_upper], dtype=float)
    return lower, upper


def _draw_curve(ax: Axes, curve: StepCurve, label: str, color: str | None = None) -> str:
    (line,) = ax.step(curve.times, curve.estimate, where="post", label=label, color=color)
    lower, upper = _band(curve)
    ax.fill_between(
        curve.times, lower, upper, step="post", alpha=0.2, color=line.get_color(), linewidth=0
    )
    return to_hex(line.get_color())


def add_at_risk_row(
    ax: Axes, values: Sequence[ValueAtTime], *, row: int = 0, label: str = "At risk"
) -> Axes:
    """Write at-risk counts under the x axis at their times (x in data units, y in axes units)."""
    transform = blended_transform_factory(ax.transData, ax.transAxes)
    y = AT_RISK_TOP - row * AT_RISK_ROW
    for value in values:
        ax.text(value.time, y, str(value.at_risk), transform=transform, ha="center", va="top")
    ax.text(-0.02, y, label, transform=ax.transAxes, ha="right", va="top")
    return ax


def plot_km(result: KaplanMeierResult, ax: Axes, *, label: str = "on drug") -> Axes:
    """Kaplan–Meier curve with its CI band, censoring ticks and an at-risk row at `result.at_times`.

    Leave room below the axes for the at-risk row (e.g. ``fig.subplots_adjust(bottom=0.3)`` or save
    with ``bbox_inches="tight"``).
    """
    if result.curve is None:
        ax.text(0.5, 0.5, f"not computable: {result.reason}", transform=ax.transAxes, ha="center")
        return ax
    color = _draw_curve(ax, result.curve, label)
    if result.censored_times:
        # One tick per distinct time: ticks at the same time coincide, so a registry of thousands
        # of patients draws no more ticks than it has distinct follow-up times.
        times = np.unique(np.asarray(result.censored_times, dtype=float))
        heights = [point[0] for point in result.curve.values_at(times)]
        ax.plot(times.tolist(), heights, linestyle="none", marker="|", color=color)
    ax.set_ylim(0.0, 1.05)
    ax.set_xlim(left=0.0)
    ax.set_xlabel(f"time on drug ({result.time_unit})")
    ax.set_ylabel("proportion still on drug")
    if result.at_times:
        add_at_risk_row(ax, result.at_times)
    return ax


def plot_cumulative_incidence(result: CumulativeIncidenceResult, ax: Axes) -> Axes:
    """One cumulative incidence curve per stop reason, with CI bands and an at-risk row."""
    if not result.computable:
        ax.text(0.5, 0.5, f"not computable: {result.reason}", transform=ax.transAxes, ha="center")
        return ax
    for cause in result.causes:
        _draw_curve(ax, cause.curve, f"{cause.cause} (n = {cause.n_events})")
    ax.set_ylim(0.0, 1.0)
    ax.set_xlim(left=0.0)
    ax.set_xlabel(f"time on drug ({result.time_unit})")
    ax.set_ylabel("cumulative incidence of stopping")
    ax.legend(loc="upper left")
    # At-risk counts do not depend on the cause; the first curve carries them.
    if result.causes[0].at_times:
        add_at_risk_row(ax, result.causes[0].at_times)
    return ax
