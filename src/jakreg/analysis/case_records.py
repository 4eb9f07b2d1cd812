"""CaseRecords from the database: cohort patients (seen at the cut-off) and literature patients."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from jakreg.analysis.data import PatientData
from jakreg.analysis.literature_side import CaseRecord
from jakreg.analysis.options import HEPATIC_TERMS, AnalysisOptions
from jakreg.analysis.prepare import PatientView
from jakreg.analysis.safety import treatment_emergent
from jakreg.rules.base import RuleError
from jakreg.rules.follow_up import age_years, months_between


def _died(vital_status: str) -> bool | None:
    return {"deceased": True, "alive": False}.get(vital_status)


def _sex(sex: str) -> str | None:
    return None if sex == "unknown" else sex


def _latest_global(p: PatientData, course_no: int, until: dt.date | None) -> str | None:
    glob = [
        r
        for r in p.responses
        if r.course_no == course_no and r.manifestation is None and (until is None or r.on <= until)
    ]
    return glob[-1].response if glob else None


def _likely_infection(p: PatientData, opts: AnalysisOptions, until: dt.date | None) -> bool:
    return any(
        e.category == "infection"
        and e.attribution in opts.infection_attributions
        and treatment_emergent(e, p.courses, until, opts.treatment_emergent)
        for e in p.adverse_events
    )


def _hepatotoxic(
    p: PatientData, start: dt.date, opts: AnalysisOptions, until: dt.date | None
) -> bool:
    return any(
        lab.ctcae_term in HEPATIC_TERMS
        and lab.ctcae_grade is not None
        and lab.ctcae_grade >= opts.hepatotoxicity_min_grade
        and start < lab.on
        and (until is None or lab.on <= until)
        for lab in p.labs
    )


def cohort_record(v: PatientView, opts: AnalysisOptions, cutoff: dt.date) -> CaseRecord:
    """A registry patient: absence of a recorded adverse event is taken as none (registry capture)."""
    first = v.first
    return CaseRecord(
        case_id=v.patient_id,
        citation=v.data.citation,
        age_at_start_years=v.age_at_start_years,
        sex=_sex(v.data.sex),
        drug=first.drug,
        response=_latest_global(v.data, first.course_no, cutoff),
        stopped=first.stop is not None,
        stop_reason=first.stop_reason,
        infection_ae=_likely_infection(v.data, opts, cutoff),
        hepatotoxicity=_hepatotoxic(v.data, first.start, opts, cutoff),
        months_on_drug=first.time_on_drug.months,
        died=_died(v.data.vital_status),
    )


def literature_record(p: PatientData, opts: AnalysisOptions) -> CaseRecord:
    """A published case from the workbook: what is not reported stays unknown (None), never 'no'."""
    if not p.courses:
        return CaseRecord(
            case_id=p.patient_id, citation=p.citation, sex=_sex(p.sex), died=_died(p.vital_status)
        )
    first = p.courses[0]
    age = None
    if p.birth_year_month:
        try:
            age = age_years(p.birth_year_month, first.start).years
        except RuleError:
            age = None
    end = first.stop
    months = None
    if end is not None and end >= first.start:
        months = months_between(first.start, end)
    stopped = True if (first.stop is not None or first.stop_reason is not None) else None
    return CaseRecord(
        case_id=p.patient_id,
        citation=p.citation,
        age_at_start_years=age,
        sex=_sex(p.sex),
        drug=first.drug,
        response=_latest_global(p, first.course_no, None),
        stopped=stopped,
        stop_reason=first.stop_reason,
        infection_ae=True if _likely_infection(p, opts, None) else None,
        hepatotoxicity=True if _hepatotoxic(p, first.start, opts, None) else None,
        months_on_drug=months,
        died=_died(p.vital_status),
    )


def literature_records(patients: Sequence[PatientData], opts: AnalysisOptions) -> list[CaseRecord]:
    return [literature_record(p, opts) for p in patients]
