"""The report's figures: each function draws on a caller's matplotlib axes and returns them."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from jakreg.analysis.idda_pairs import IddaSection
from jakreg.analysis.timeline import Lane
from jakreg.stats import (
    CumulativeIncidenceResult,
    KaplanMeierResult,
    plot_cumulative_incidence,
    plot_km,
)
from jakreg.stats._common import p_phrase

DRUG_COLOURS = {
    "ruxolitinib": "#1f77b4",
    "baricitinib": "#ff7f0e",
    "tofacitinib": "#2ca02c",
    "itacitinib": "#9467bd",
    "upadacitinib": "#8c564b",
    "filgotinib": "#e377c2",
    "abrocitinib": "#17becf",
    "other": "#7f7f7f",
}
RESPONSE_MARKERS = {"CR": ("o", "#2ca02c"), "PR": ("o", "#bcbd22"), "NR": ("o", "#d62728"),
                    "NE": ("o", "#7f7f7f")}  # fmt: skip
RESPONSE_ORDER = ("CR", "PR", "NR", "NE", "unknown")


def _x(day: dt.date) -> float:
    """A date as a matplotlib x coordinate."""
    return float(mdates.date2num(day))  # type: ignore[no-untyped-call]


def _empty(ax: Axes, text: str) -> Axes:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


LABELLED_PAIRS = 40  # pairs named by their pseudonym at most
# Pairs drawn as lines at most; a larger registry gets an evenly spaced sample of them over box plots
# of every pair (the caption says so), so the figure does not grow with the number of patients.
MAX_PAIR_LINES = 500


def shown_pairs(n: int, cap: int = MAX_PAIR_LINES) -> list[int]:
    """Indices of the pairs drawn: all of them up to `cap`, else `cap` evenly spaced ones."""
    if n <= cap:
        return list(range(n))
    return sorted({round(i * (n - 1) / (cap - 1)) for i in range(cap)})


def idda_paired_plot(ax: Axes, idda: IddaSection) -> Axes:
    """One line per patient from the 'before' to the 'under' score (complete pairs only)."""
    pairs = [(p.patient, p.before.value, p.under.value)
             for p in idda.patients if p.before is not None and p.under is not None]  # fmt: skip
    if not pairs:
        return _empty(ax, f"{idda.score}: no complete before/under pairs")
    if len(pairs) > MAX_PAIR_LINES:
        return _idda_paired_summary(ax, idda, pairs)
    # One collection of segments (not one artist per patient): a registry has thousands of pairs.
    colours = ["#1f77b4" if under < before else "#d62728" for _, before, under in pairs]
    alpha = 0.8 if len(pairs) <= LABELLED_PAIRS else max(0.08, 0.8 * LABELLED_PAIRS / len(pairs))
    ax.add_collection(
        LineCollection([[(0, b), (1, u)] for _, b, u in pairs], colors=colours, alpha=alpha)
    )
    ax.scatter([0] * len(pairs) + [1] * len(pairs), [b for _, b, _ in pairs] + [u for *_, u in pairs],
               c=colours + colours, alpha=alpha, s=25, zorder=3)  # fmt: skip
    if len(pairs) <= LABELLED_PAIRS:  # beyond that the labels would only overlap
        for patient, _before, under in pairs:
            ax.annotate(patient, (1, under), xytext=(6, 0), textcoords="offset points",
                        va="center", fontsize=8, color="#333333")  # fmt: skip
    _idda_axes(ax, idda, pairs)
    return ax


def _idda_paired_summary(
    ax: Axes, idda: IddaSection, pairs: list[tuple[str, float, float]]
) -> Axes:
    """Many pairs: box plots of every before and under score, a sample of the lines, the medians."""
    before = [b for _, b, _ in pairs]
    under = [u for *_, u in pairs]
    sample = [pairs[i] for i in shown_pairs(len(pairs))]
    colours = ["#1f77b4" if u < b else "#d62728" for _, b, u in sample]
    ax.add_collection(
        LineCollection([[(0, b), (1, u)] for _, b, u in sample], colors=colours, alpha=0.15)
    )
    ax.boxplot([before, under], positions=[0, 1], widths=0.22, showfliers=False,
               patch_artist=True, zorder=3,
               boxprops={"facecolor": "white", "alpha": 0.85},
               medianprops={"color": "black", "lw": 2})  # fmt: skip
    ax.plot([0, 1], [float(np.median(before)), float(np.median(under))], color="black", lw=2,
            marker="o", zorder=4, label="medians")  # fmt: skip
    ax.legend(loc="upper right", fontsize=8, frameon=False)
    _idda_axes(ax, idda, pairs)
    return ax


def _idda_axes(ax: Axes, idda: IddaSection, pairs: list[tuple[str, float, float]]) -> None:
    ax.set_xticks([0, 1], ["before JAK inhibitor", "under JAK inhibitor"])
    ax.set_xlim(-0.3, 1.35)
    ax.set_ylabel(f"{idda.score} total")
    top = max(max(b, u) for _, b, u in pairs)
    ax.set_ylim(0, top * 1.05 if top > 0 else 1)
    w = idda.comparison.wilcoxon
    p_text = (
        f"{p_phrase(w.p_value)}" if w.p_value is not None else f"test not computable: {w.reason}"
    )
    ax.set_title(f"{len(pairs)} pairs; Wilcoxon signed-rank ({w.method or 'n/a'}), {p_text}",
                 fontsize=10)  # fmt: skip
    ax.grid(axis="y", alpha=0.3)


# Lanes drawn at most; a larger cohort's timelines stay in results.json (timeline) and the caption
# says how many are shown.
MAX_SWIMMER_LANES = 60


def swimmer_plot(ax: Axes, lanes: Sequence[Lane], cutoff: dt.date) -> Axes:
    """One lane per patient: course bars by drug, dose-change ticks, response/AE/HSCT markers."""
    if not lanes:
        return _empty(ax, "no patients with a JAK-inhibitor course")
    drugs: set[str] = set()
    for y, lane in enumerate(lanes):
        for bar in lane.bars:
            drugs.add(bar.drug)
            start, end = _x(bar.start), _x(bar.end)
            ax.barh(y, max(end - start, 1.0), left=start, height=0.5,
                    color=DRUG_COLOURS.get(bar.drug, "#7f7f7f"), alpha=0.85)  # fmt: skip
            for d in bar.dose_changes:
                ax.plot([_x(d)] * 2, [y - 0.3, y + 0.3], color="black", lw=1.2)
            if bar.ongoing:
                ax.annotate("", xy=(end + 45, y), xytext=(end, y),
                            arrowprops={"arrowstyle": "->", "color": "black", "lw": 1.2})  # fmt: skip
        for m in lane.marks:
            x = _x(m.on)
            if m.kind == "response":
                marker, colour = RESPONSE_MARKERS.get(m.label, ("o", "#7f7f7f"))
                # The y axis is inverted: y - 0.36 is above the bar, y + 0.36 below it.
                ax.plot(x, y - 0.36, marker=marker, color=colour, ms=7, mec="black", mew=0.5)
            elif m.kind == "adverse_event":
                ax.plot(x, y + 0.36, marker="^", color="#d62728", ms=7, mec="black", mew=0.5)
            else:
                ax.plot(x, y, marker="*", color="gold", ms=14, mec="black", mew=0.6)
    ax.axvline(_x(cutoff), color="#555555", ls="--", lw=1)
    ax.text(_x(cutoff), len(lanes) - 0.4, " cut-off", color="#555555", fontsize=8)
    ax.set_yticks(range(len(lanes)), [lane.patient for lane in lanes])
    ax.set_ylim(-0.8, len(lanes) - 0.2)
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(mdates.AutoDateLocator())  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))  # type: ignore[no-untyped-call]
    handles: list[Patch | Line2D] = [
        Patch(color=DRUG_COLOURS.get(d, "#7f7f7f"), label=d) for d in sorted(drugs)
    ]
    handles += [
        Line2D([], [], color="black", marker="|", ls="none", ms=10, label="dose change"),
        Line2D([], [], color="black", marker=r"$\rightarrow$", ls="none", ms=10, label="ongoing"),
        *(Line2D([], [], marker="o", color=c, mec="black", ls="none", label=f"response {k}")
          for k, (_, c) in RESPONSE_MARKERS.items()),
        Line2D([], [], marker="^", color="#d62728", mec="black", ls="none", label="adverse event"),
        Line2D([], [], marker="*", color="gold", mec="black", ls="none", ms=12, label="HSCT"),
    ]  # fmt: skip
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8,
              frameon=False)  # fmt: skip
    ax.grid(axis="x", alpha=0.3)
    return ax


def km_plot(ax: Axes, km: KaplanMeierResult) -> Axes:
    """Kaplan–Meier time on drug with CI band, censoring ticks and the at-risk row."""
    plot_km(km, ax)
    if km.computable:
        median = f"{km.median:.3g} months" if km.median_reached and km.median else "not reached"
        ax.set_title(f"n = {km.n}, {km.n_events} stopped; median time on drug {median}",
                     fontsize=10)  # fmt: skip
    ax.grid(alpha=0.3)
    return ax


def cif_plot(ax: Axes, cif: CumulativeIncidenceResult) -> Axes:
    """Cumulative incidence of each stop reason (competing risks) with the at-risk row."""
    plot_cumulative_incidence(cif, ax)
    ax.grid(alpha=0.3)
    return ax


def response_bars(
    ax: Axes,
    cohort: Sequence[tuple[str, int]],
    literature: Sequence[tuple[str, int]] | None,
) -> Axes:
    """Share of each response (of all patients, unknown shown) in the cohort and published cases."""
    sides = [("cohort", dict(cohort))]
    if literature is not None:
        sides.append(("published cases", dict(literature)))
    if all(sum(counts.values()) == 0 for _, counts in sides):
        return _empty(ax, "no responses recorded")
    colours = {**{k: c for k, (_, c) in RESPONSE_MARKERS.items()}, "unknown": "#dddddd"}
    for i, (_name, counts) in enumerate(sides):
        total = sum(counts.values())
        left = 0.0
        for code in RESPONSE_ORDER:
            n = counts.get(code, 0)
            if not n or not total:
                continue
            share = 100.0 * n / total
            ax.barh(i, share, left=left, color=colours[code], edgecolor="white",
                    label=code if i == 0 or code not in dict(sides[0][1]) else None)  # fmt: skip
            ax.text(left + share / 2, i, f"{code}\n{n}", ha="center", va="center", fontsize=8)
            left += share
    ax.set_yticks(range(len(sides)), [f"{n} (n = {sum(c.values())})" for n, c in sides])
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of patients (unknown = not reported)")
    ax.invert_yaxis()
    return ax


@dataclass(frozen=True)
class RenderedFigure:
    name: str
    title: str
    caption: str
    svg: bytes
    png: bytes


def render(
    name: str,
    title: str,
    caption: str,
    draw: Callable[[Axes], Axes],
    size: tuple[float, float],
    *,
    bottom: float | None = None,
) -> RenderedFigure:
    """Draw on a fresh figure and return it as SVG and PNG bytes (nothing written to disk)."""
    fig = Figure(figsize=size, layout=None if bottom is not None else "constrained")
    ax = fig.add_subplot()
    draw(ax)
    if bottom is not None:
        fig.subplots_adjust(bottom=bottom, left=0.15, right=0.97, top=0.9)
    svg, png = io.BytesIO(), io.BytesIO()
    fig.savefig(svg, format="svg", metadata={"Date": None})
    fig.savefig(png, format="png", dpi=110)
    return RenderedFigure(name, title, caption, svg.getvalue(), png.getvalue())
