"""Plot helpers draw on the given axes and return them; rendered with Agg, never shown."""

import io

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

from jakreg.stats import (
    cumulative_incidence,
    kaplan_meier,
    plot_cumulative_incidence,
    plot_km,
)


def _render(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def test_plot_km_draws_curve_and_at_risk_row() -> None:
    result = kaplan_meier(
        [2.0, 3.0, 5.0, 7.0, 8.0, 10.0],
        [True, False, True, True, False, True],
        times=[0.0, 4.0, 8.0],
    )
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_km(result, ax) is ax
    texts = [t.get_text() for t in ax.texts]
    assert texts[:3] == ["6", "4", "2"]
    assert "At risk" in texts
    assert ax.get_ylim() == (0.0, 1.05)
    assert _render(fig).startswith(b"\x89PNG")


def test_plot_cumulative_incidence_one_curve_per_cause() -> None:
    result = cumulative_incidence(
        [1.0, 2.0, 3.0, 4.0, 5.0], ["A", "B", None, "A", "B"], times=[0.0, 2.5]
    )
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_cumulative_incidence(result, ax) is ax
    assert [line.get_label() for line in ax.get_lines()] == ["A (n = 2)", "B (n = 2)"]
    assert _render(fig).startswith(b"\x89PNG")


def test_plots_of_not_computable_results_say_so() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    plot_km(kaplan_meier([], []), ax)
    plot_cumulative_incidence(cumulative_incidence([1.0], [None]), ax)
    assert [t.get_text() for t in ax.texts] == [
        "not computable: no treatment courses",
        "not computable: no stops recorded",
    ]
