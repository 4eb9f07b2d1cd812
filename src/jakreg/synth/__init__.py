"""A realistic synthetic STAT1 GOF registry of any size, deterministic by seed, for tests and benchmarks.

``write_synthetic(out, patients=N, centres=K, seed=S, fmt="csv" | "xlsx")`` writes a study workbook that
``jakreg validate`` accepts. Every file says it is synthetic.
"""

from jakreg.synth.generate import (
    DEFAULT_CUTOFF,
    SYNTHETIC_LABEL,
    StudyPlan,
    centre_rows,
    iter_patients,
    patient_rows,
    plan_study,
)
from jakreg.synth.write import FORMATS, SynthError, SynthSummary, write_synthetic

__all__ = [
    "DEFAULT_CUTOFF",
    "FORMATS",
    "SYNTHETIC_LABEL",
    "StudyPlan",
    "SynthError",
    "SynthSummary",
    "centre_rows",
    "iter_patients",
    "patient_rows",
    "plan_study",
    "write_synthetic",
]
