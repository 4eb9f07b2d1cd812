"""The analyses for the founding study's open questions, as one object added to the results.

Each part is its own top-level key of results.json (documented in results.schema.json and
docs/analyses.md): exposure, exposure_adjusted_incidence, ...
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.exposure import (
    ExposureSection,
    IncidenceSection,
    exposure_section,
    incidence_section,
)
from jakreg.analysis.options import AnalysisOptions
from jakreg.analysis.prepare import PatientView

KEYS = ("exposure", "exposure_adjusted_incidence")


@dataclass(frozen=True)
class QuestionsSection:
    exposure: ExposureSection
    incidence: IncidenceSection

    def to_dict(self) -> dict[str, Any]:
        return {
            "exposure": self.exposure.to_dict(),
            "exposure_adjusted_incidence": self.incidence.to_dict(),
        }


def questions_section(
    views: Sequence[PatientView], cutoff: dt.date, opts: AnalysisOptions
) -> QuestionsSection:
    return QuestionsSection(
        exposure=exposure_section(views, cutoff),
        incidence=incidence_section(views, cutoff, confidence_level=opts.confidence_level),
    )
