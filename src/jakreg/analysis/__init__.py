"""The study analysis: from the registry's patients to one results object (see docs/results.md)."""

from jakreg.analysis.literature_side import CaseRecord, LiteratureComparison, compare_cases
from jakreg.analysis.options import AnalysisOptions
from jakreg.analysis.results import SCHEMA, StudyResults, analyse_snapshot
from jakreg.analysis.run import analyse, results_json, write_results

__all__ = [
    "SCHEMA",
    "AnalysisOptions",
    "CaseRecord",
    "LiteratureComparison",
    "StudyResults",
    "analyse",
    "analyse_snapshot",
    "compare_cases",
    "results_json",
    "write_results",
]
