"""The analyses for the founding study's open questions, as one object added to the results.

Each part is its own top-level key of results.json (documented in results.schema.json and
docs/analyses.md): exposure, exposure_adjusted_incidence, ...
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.after_stop import AfterStopSection, after_stop_section
from jakreg.analysis.background import in_background
from jakreg.analysis.biomarkers import BiomarkerSection, biomarker_section
from jakreg.analysis.dosing import DosingSection, dosing_section
from jakreg.analysis.exposure import (
    ExposureSection,
    IncidenceSection,
    exposure_section,
    incidence_section,
)
from jakreg.analysis.idda_pairs import IddaSection
from jakreg.analysis.longitudinal import LongitudinalSection, fit_model, longitudinal_points
from jakreg.analysis.options import AnalysisOptions
from jakreg.analysis.prepare import PatientView
from jakreg.analysis.sensitivity import SensitivitySection, sensitivity_section
from jakreg.analysis.time_to_response import TimeToResponseSection, time_to_response_section

KEYS = (
    "exposure",
    "exposure_adjusted_incidence",
    "time_to_response",
    "idda_longitudinal",
    "idda_sensitivity",
)


@dataclass(frozen=True)
class QuestionsSection:
    exposure: ExposureSection
    incidence: IncidenceSection
    time_to_response: TimeToResponseSection
    longitudinal: LongitudinalSection
    sensitivity: SensitivitySection
    after_stopping: AfterStopSection
    dosing: DosingSection
    biomarkers: BiomarkerSection

    def to_dict(self) -> dict[str, Any]:
        return {
            "exposure": self.exposure.to_dict(),
            "exposure_adjusted_incidence": self.incidence.to_dict(),
            "time_to_response": self.time_to_response.to_dict(),
            "idda_longitudinal": self.longitudinal.to_dict(),
            "idda_sensitivity": self.sensitivity.to_dict(),
            "after_stopping": self.after_stopping.to_dict(),
            "dosing": self.dosing.to_dict(),
            "biomarkers": self.biomarkers.to_dict(),
        }


def questions_section(
    views: Sequence[PatientView], cutoff: dt.date, opts: AnalysisOptions, idda: IddaSection
) -> QuestionsSection:
    return start_questions(views, cutoff, opts, idda)()


def start_questions(
    views: Sequence[PatientView],
    cutoff: dt.date,
    opts: AnalysisOptions,
    idda: IddaSection,
    *,
    background: bool = False,
) -> Callable[[], QuestionsSection]:
    """The open-questions sections, as a function that gives them. ``background``: the two that
    cost most at registry size and give small results — the mixed model's fit and the sensitivity
    re-runs — start now in forked children (jakreg.analysis.background) while the caller computes
    other sections; the rest is computed when the function is called."""
    points = longitudinal_points(views, score=opts.score, cutoff=cutoff)
    model = in_background(
        functools.partial(fit_model, points, opts.confidence_level), enabled=background
    )
    sensitivity = in_background(
        functools.partial(
            sensitivity_section,
            views,
            score=opts.score,
            primary=opts.window_rule,
            cutoff=cutoff,
            zero_method=opts.zero_method,
            confidence_level=opts.confidence_level,
            primary_section=idda,
        ),
        enabled=background,
    )

    def finish() -> QuestionsSection:
        return QuestionsSection(
            exposure=exposure_section(views, cutoff),
            incidence=incidence_section(
                views,
                cutoff,
                confidence_level=opts.confidence_level,
                window=opts.treatment_emergent,
            ),
            time_to_response=time_to_response_section(
                views, times=opts.survival_times, confidence_level=opts.confidence_level
            ),
            longitudinal=LongitudinalSection(opts.score, points, model()),
            sensitivity=sensitivity(),
            after_stopping=after_stop_section(views, cutoff),
            dosing=dosing_section(views),
            biomarkers=biomarker_section(
                views,
                idda,
                rule=opts.window_rule,
                cutoff=cutoff,
                zero_method=opts.zero_method,
                confidence_level=opts.confidence_level,
            ),
        )

    return finish
