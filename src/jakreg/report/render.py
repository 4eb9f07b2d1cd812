"""Render the report context to HTML (package Jinja2 templates, autoescape on) and PDF (WeasyPrint)."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

import jakreg
from jakreg.analysis.results import StudyResults
from jakreg.report.context import ReportContext
from jakreg.report.figures import RenderedFigure
from jakreg.report.tables import Cell, num


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return num(value) if math.isfinite(value) else "–"
    return str(value)


def environment() -> Environment:
    """The report's Jinja2 environment: package templates, autoescaping on for every template."""
    env = Environment(
        loader=PackageLoader("jakreg.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = _cell
    return env


def data_uri(figure: RenderedFigure) -> str:
    return "data:image/png;base64," + base64.b64encode(figure.png).decode("ascii")


# A page (and its PDF) shows at most this many rows of a table; tables/*.csv hold every row. A
# registry of thousands of patients would otherwise make a PDF of thousands of pages.
MAX_TABLE_ROWS = 100


def render_html(
    ctx: ReportContext, results: StudyResults, figures: Mapping[str, RenderedFigure]
) -> str:
    """A self-contained page: CSS inline, figures as data URIs, no scripts, no external requests."""
    template = environment().get_template("report.html.j2")
    return template.render(
        ctx=ctx,
        results=results,
        figures={name: data_uri(f) for name, f in figures.items()},
        version=jakreg.__version__,
        max_rows=MAX_TABLE_ROWS,
    )


def render_pdf(html: str) -> bytes:
    """The same HTML printed by WeasyPrint (same sections, print CSS)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
