"""One results object for a study analysis, computed from a Snapshot (pure; no database, no files)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis import case_records, hpo_groups
from jakreg.analysis.cohort import CohortSection, cohort_section, domain_rule
from jakreg.analysis.data import Snapshot
from jakreg.analysis.drug_survival import (
    DiscontinuationSection,
    DrugSurvivalSection,
    discontinuation_section,
    drug_survival_section,
)
from jakreg.analysis.exposure import EXPOSURE_RULE
from jakreg.analysis.idda_pairs import IddaSection, idda_section
from jakreg.analysis.literature_side import CaseRecord, LiteratureComparison, compare_cases
from jakreg.analysis.methods import MethodsSection, TestUsed, software_versions, unique_rules
from jakreg.analysis.options import ATTRIBUTION_ORDER, AnalysisOptions
from jakreg.analysis.prepare import Excluded, choose_cutoff, view_patients
from jakreg.analysis.questions import QuestionsSection, start_questions
from jakreg.analysis.responses import ResponseSection, response_section
from jakreg.analysis.safety import SafetySection, safety_section
from jakreg.analysis.timeline import Lane, lanes
from jakreg.analysis.treatment import TreatmentSection, treatment_section
from jakreg.rules import ctcae, dosing
from jakreg.rules.follow_up import AGE, TIME_ON_DRUG
from jakreg.stats.describe import QUANTILE_METHOD_TEXT
from jakreg.stats.groups import SMALL_N
from jakreg.stats.paired import EXACT_TEXT, WILCOXON_SOFTWARE
from jakreg.stats.poisson import POISSON_CI_METHOD
from jakreg.stats.signed_rank import HL_CI_METHOD
from jakreg.stats.survival import CIF_CI_METHOD, KM_CI_METHOD, TIE_HANDLING

SCHEMA = "jakreg-results/1"
SYNTHETIC_NOTE = (
    "These data are the bundled SYNTHETIC example study: invented patients modelled on the "
    "published aggregates of Deyà-Martínez et al., J Clin Immunol 2022 "
    "(doi:10.1007/s10875-022-01257-x). They are not the study's data and must not be cited as such."
)


@dataclass(frozen=True)
class DataSection:
    centre: str | None
    source: str | None
    cutoff: dt.date
    cutoff_source: str
    sha256: str
    synthetic_example: bool
    n_selected: int
    excluded: tuple[Excluded, ...]
    hpo_release: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "selection": {"centre": self.centre, "source": self.source},
            "cutoff": self.cutoff.isoformat(),
            "cutoff_source": self.cutoff_source,
            "sha256": self.sha256,
            "synthetic_example": self.synthetic_example,
            "synthetic_note": SYNTHETIC_NOTE if self.synthetic_example else None,
            "n_selected": self.n_selected,
            "excluded": [{"patient": e.patient, "reason": e.reason} for e in self.excluded],
            "hpo_release": self.hpo_release,
        }


@dataclass(frozen=True)
class StudyResults:
    data: DataSection
    options: AnalysisOptions
    cohort: CohortSection
    treatment: TreatmentSection
    idda: IddaSection
    response: ResponseSection
    adverse_events: SafetySection
    discontinuation: DiscontinuationSection
    drug_survival: DrugSurvivalSection
    literature: LiteratureComparison | None
    timeline: tuple[Lane, ...]
    methods: MethodsSection
    schema: str = SCHEMA
    questions: QuestionsSection | None = None  # exposure, rates, ... (analysis/questions.py)

    def to_dict(self) -> dict[str, Any]:
        lit = self.literature
        return {
            "schema": self.schema,
            "data": self.data.to_dict(),
            "options": self.options.to_dict(),
            "cohort": self.cohort.to_dict(),
            "treatment": self.treatment.to_dict(),
            "idda": self.idda.to_dict(),
            "response": self.response.to_dict(),
            "adverse_events": self.adverse_events.to_dict(),
            "discontinuation": self.discontinuation.to_dict(),
            "drug_survival": self.drug_survival.to_dict(),
            "literature": (
                lit.to_dict()
                if lit is not None
                else {"included": False, "n_patients": 0, "source": None}
            )
            | {"included": lit is not None},
            "comparison": [v.to_dict() for v in lit.variables] if lit is not None else [],
            "timeline": [lane.to_dict() for lane in self.timeline],
            "methods": self.methods.to_dict(),
        } | (self.questions.to_dict() if self.questions is not None else {})


def analyse_snapshot(
    snapshot: Snapshot,
    options: AnalysisOptions | None = None,
    *,
    literature_cases: Sequence[CaseRecord] | None = None,
    literature_source: str | None = None,
    background: bool = False,
) -> StudyResults:
    """Every section of the study analysis for the snapshot's patients.

    Published cases: `literature_cases` when given (e.g. from jakreg.literature), else the snapshot's
    patients with source = literature; none when `options.literature` is False. ``background``: the
    mixed model's fit and the sensitivity re-runs are computed in forked child processes meanwhile
    (two cores; the same results, see jakreg.analysis.questions.start_questions).
    """
    opts = options or AnalysisOptions()
    cut = choose_cutoff(opts.cutoff, snapshot.centres, opts.today)
    views, excluded = view_patients(snapshot.patients, cut.date)
    group_of = hpo_groups.organ_systems if opts.hpo_groups else None
    cohort = cohort_section(views, group_of)
    idda = idda_section(
        views,
        score=opts.score,
        rule=opts.window_rule,
        cutoff=cut.date,
        zero_method=opts.zero_method,
        confidence_level=opts.confidence_level,
    )
    questions = start_questions(views, cut.date, opts, idda, background=background)
    survival = drug_survival_section(
        views, times=opts.survival_times, confidence_level=opts.confidence_level
    )
    literature = None
    if opts.literature:
        # The given cases (e.g. the packaged curated set) and the published cases a team entered in
        # the database (source = literature) are compared together.
        from_db = case_records.literature_records(snapshot.literature, opts)
        given = list(literature_cases or [])
        sources = [
            *([literature_source or "published cases (given)"] if given else []),
            *(["patients in the database with source = literature"] if from_db else []),
        ]
        literature = compare_cases(
            [case_records.cohort_record(v, opts, cut.date) for v in views],
            [*given, *from_db],
            source="; ".join(sources) or "no published cases",
            confidence_level=opts.confidence_level,
        )
    data = DataSection(
        centre=snapshot.centre_filter,
        source=snapshot.source_filter,
        cutoff=cut.date,
        cutoff_source=cut.source,
        sha256=snapshot.sha256,
        synthetic_example=snapshot.synthetic_example,
        n_selected=len(snapshot.patients),
        excluded=excluded,
        hpo_release=hpo_groups.hpo_release() if group_of is not None and views else None,
    )
    return StudyResults(
        data=data,
        options=opts,
        cohort=cohort,
        treatment=treatment_section(views, cut.date),
        idda=idda,
        response=response_section(
            views, cut.date, opts.response_rule, confidence_level=opts.confidence_level
        ),
        adverse_events=safety_section(
            views,
            cut.date,
            infection_attributions=opts.infection_attributions,
            hepatotoxicity_min_grade=opts.hepatotoxicity_min_grade,
            attribution_order=ATTRIBUTION_ORDER,
            window=opts.treatment_emergent,
        ),
        discontinuation=discontinuation_section(views),
        drug_survival=survival,
        literature=literature,
        timeline=lanes(views, cut.date),
        methods=_methods(opts, idda, cut.date, cut.source, snapshot.sha256),
        questions=questions(),
    )


def _methods(
    opts: AnalysisOptions, idda: IddaSection, cutoff: dt.date, cutoff_source: str, sha: str
) -> MethodsSection:
    w = idda.comparison.wilcoxon
    rules = unique_rules(
        [
            *opts.conventions(),
            AGE,
            TIME_ON_DRUG,
            opts.window_rule.info,
            idda.total_rule,
            opts.response_rule.info,
            ctcae.RULE,
            dosing.DOSE_INTENSITY,
            dosing.BSA_MOSTELLER,
            EXPOSURE_RULE,
            domain_rule(),
        ]
    )
    method = w.method or "exact when possible (not run: " + str(w.reason) + ")"
    tests = (
        TestUsed("continuous summaries", "median, quartiles, range", QUANTILE_METHOD_TEXT),
        TestUsed(
            f"{idda.score} before vs under JAK inhibitor (pairs by patient)",
            f"Wilcoxon signed-rank test ({WILCOXON_SOFTWARE})",
            f"{method} ({EXACT_TEXT}); {w.alternative}; zero_method={w.zero_method} "
            f"(zero differences dropped before ranking when 'wilcox'); "
            f"continuity correction {'on' if w.correction else 'off'}",
        ),
        TestUsed(
            f"{idda.score} before vs under",
            "sign test",
            "exact binomial (scipy.stats.binomtest, p = 0.5), two-sided, zeros dropped",
        ),
        TestUsed(
            f"{idda.score} change",
            "Hodges–Lehmann median difference (under − before) with distribution-free CI",
            f"{opts.confidence_level:g} nominal level; {HL_CI_METHOD}",
        ),
        TestUsed(
            f"{idda.score} effect size",
            "matched-pairs rank-biserial correlation (Kerby)",
            "average ranks of the non-zero |differences|",
        ),
        TestUsed(
            "time on drug (first course)",
            "Kaplan–Meier (lifelines)",
            f"{KM_CI_METHOD}; {opts.confidence_level:g} confidence; months",
        ),
        TestUsed(
            "stops by reason",
            "Aalen–Johansen cumulative incidence, competing risks (lifelines)",
            f"{CIF_CI_METHOD}; {TIE_HANDLING}",
        ),
        TestUsed(
            "adverse and lab events per 100 patient-years",
            "exact Poisson confidence interval (Garwood)",
            POISSON_CI_METHOD,
        ),
        TestUsed(
            "cohort vs published cases (binary)",
            "Fisher's exact test, two-sided (scipy)",
            f"known values only; caution when a group or expected cell count < {SMALL_N}",
        ),
        TestUsed(
            "cohort vs published cases (continuous)",
            "Mann–Whitney U, two-sided (scipy)",
            "exact without ties when both groups have fewer than 50 values (as R's wilcox.test); "
            "exact permutation with ties when small; else normal approximation with continuity "
            "correction",
        ),
    )
    return MethodsSection(
        rules=rules,
        tests=tests,
        software=software_versions(),
        data_sha256=sha,
        cutoff=cutoff.isoformat(),
        cutoff_source=cutoff_source,
    )
