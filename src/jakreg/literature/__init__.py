"""The curated published STAT1 GOF patients treated with a JAK inhibitor, with citations and per-value sources."""

from jakreg.literature.load import load_cases, parse_cases
from jakreg.literature.model import (
    CaseFlag,
    Citation,
    Confidence,
    DerivedJudgements,
    FlagCode,
    Judgement,
    LiteratureCase,
    LiteratureDataError,
    LiteratureError,
    LiteratureSet,
    SetInfo,
    Sourced,
    UnknownCaseError,
)
from jakreg.literature.response import (
    ResponseCategory,
    ResponseJudgement,
    ResponseMapping,
    ResponseMappingError,
    default_response_mapping,
    map_response,
)

__all__ = [
    "CaseFlag",
    "Citation",
    "Confidence",
    "DerivedJudgements",
    "FlagCode",
    "Judgement",
    "LiteratureCase",
    "LiteratureDataError",
    "LiteratureError",
    "LiteratureSet",
    "ResponseCategory",
    "ResponseJudgement",
    "ResponseMapping",
    "ResponseMappingError",
    "SetInfo",
    "Sourced",
    "UnknownCaseError",
    "default_response_mapping",
    "load_cases",
    "map_response",
    "parse_cases",
]
