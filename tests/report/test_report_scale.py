"""A registry's report stays the size of a founding study's: figures summarise, text is capped."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from jakreg.analysis import analyse
from jakreg.analysis.idda_pairs import ChosenScore, PatientScores
from jakreg.analysis.results import StudyResults
from jakreg.report import context, figures
from jakreg.report.context import build_context
from jakreg.stats import kaplan_meier, plot_km


@pytest.fixture(scope="module")
def results(example_url: str) -> StudyResults:
    return analyse(example_url)


def _with_pairs(r: StudyResults, n: int) -> StudyResults:
    rng = np.random.default_rng(3)
    day = dt.date(2020, 1, 1)
    patients = tuple(
        PatientScores(
            patient=f"P{i:06d}",
            course_no=1,
            before=ChosenScore(day, float(b), "latest before start"),
            under=ChosenScore(day, float(u), "nearest to 6 months"),
            before_reason="",
            under_reason="",
            not_chosen=(),
        )
        for i, (b, u) in enumerate(zip(rng.integers(5, 40, n), rng.integers(0, 40, n), strict=True))
    )
    return dataclasses.replace(r, idda=dataclasses.replace(r.idda, patients=patients))


def _line_collections(ax: object) -> list[LineCollection]:
    return [c for c in ax.collections if isinstance(c, LineCollection)]  # type: ignore[attr-defined]


def test_shown_pairs_are_all_or_evenly_spaced() -> None:
    assert figures.shown_pairs(7, cap=10) == list(range(7))
    shown = figures.shown_pairs(10_000, cap=500)
    assert len(shown) == 500
    assert (shown[0], shown[-1]) == (0, 9_999)
    assert shown == sorted(set(shown))


def test_few_pairs_one_line_each(results: StudyResults) -> None:
    ax = Figure().add_subplot()
    figures.idda_paired_plot(ax, results.idda)
    (lines,) = _line_collections(ax)
    assert len(lines.get_segments()) == results.idda.n_pairs == 8


def test_many_pairs_are_summarised(results: StudyResults) -> None:
    many = _with_pairs(results, 3 * figures.MAX_PAIR_LINES)
    ax = Figure().add_subplot()
    figures.idda_paired_plot(ax, many.idda)
    (lines,) = _line_collections(ax)
    assert len(lines.get_segments()) == figures.MAX_PAIR_LINES
    assert ax.get_title().startswith(f"{3 * figures.MAX_PAIR_LINES} pairs;")
    assert not ax.collections[1:]  # no scatter of every point: box plots instead
    rendered = figures.render("idda_paired", "t", "c", lambda a: figures.idda_paired_plot(a, many.idda),
                              (6.0, 4.5))  # fmt: skip
    assert rendered.png.startswith(b"\x89PNG")


def test_caption_says_how_many_pairs_are_drawn(
    results: StudyResults, monkeypatch: pytest.MonkeyPatch
) -> None:
    slot = next(f for f in build_context(results).figures if f.name == "idda_paired")
    assert "lines are drawn for" not in slot.caption
    monkeypatch.setattr(figures, "MAX_PAIR_LINES", 5)
    slot = next(f for f in build_context(results).figures if f.name == "idda_paired")
    assert "With 8 pairs, lines are drawn for 5 of them" in slot.caption


def test_left_out_patients_are_named_up_to_a_cap(results: StudyResults) -> None:
    n = context.MAX_NAMED_PATIENTS + 5
    left_out = tuple((f"P{i}", "no time on drug") for i in range(n))
    r = dataclasses.replace(
        results, drug_survival=dataclasses.replace(results.drug_survival, left_out=left_out)
    )
    lines = context._survival_text(r)
    assert sum(line.startswith("Left out: ") for line in lines) == context.MAX_NAMED_PATIENTS
    assert lines[-1].startswith("… and 5 more patients left out")


def test_km_censoring_ticks_once_per_time() -> None:
    result = kaplan_meier([1.0, 2.0, 2.0, 2.0, 3.0, 3.0], [True, False, False, False, True, False])
    ax = Figure().add_subplot()
    plot_km(result, ax)
    ticks = [line for line in ax.get_lines() if line.get_marker() == "|"]
    assert [list(t.get_xdata()) for t in ticks] == [[2.0, 3.0]]
