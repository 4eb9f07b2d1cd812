"""The packaged curated literature set (jakreg.literature) as comparison records for the analysis."""

from __future__ import annotations

from jakreg.analysis.literature_side import CaseRecord
from jakreg.literature import comparison_records, load_cases


def packaged_case_records() -> tuple[list[CaseRecord], str]:
    """Every curated published case (possible duplicates counted once), and a sentence naming the set."""
    lit = load_cases()
    records = comparison_records(lit, honour_duplicates=True)
    cases = [
        CaseRecord(
            case_id=r.case_id,
            citation=r.citation,
            age_at_start_years=r.age_years,
            sex=r.sex,
            drug=r.drug,
            response=r.response_category,
            stopped=r.stopped,
            stop_reason=r.stop_reason,
            infection_ae=r.infection_ae,
            died=r.died,
            low_confidence=r.low_confidence,
            provenance={k: f"{v.source} [{v.confidence.value}]" for k, v in r.sources.items()},
        )
        for r in records
    ]
    excluded = "; ".join(f"{e.record.case_id}: {e.reason}" for e in records.excluded)
    source = (
        f"{lit.info.name}, version {lit.info.version} "
        f"({len(lit)} published cases from {lit.n_publications} publications"
        + (f"; not counted: {excluded}" if excluded else "")
        + "; response categories are a provisional mapping of the authors' words)"
    )
    return cases, source
