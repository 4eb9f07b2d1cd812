"""The cohort table: patients, centres, age, sex, variant domain, manifestations, prior therapies."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jakreg.analysis.prepare import PatientView
from jakreg.rules.base import RuleError, RuleInfo
from jakreg.rules.stat1_domains import domain_of_variant, domain_table
from jakreg.stats import (
    CategoricalSummary,
    ContinuousSummary,
    describe_categorical,
    describe_continuous,
)

SEXES = ("female", "male", "other", "unknown")
# The domain table's names, as the workbook's vocabulary spells them.
DOMAIN_CODES = {
    "N-terminal": "n_terminal",
    "coiled-coil": "coiled_coil",
    "DNA-binding": "dna_binding",
    "linker": "linker",
    "SH2": "sh2",
    "transactivation": "transactivation",
}
DOMAINS = (*DOMAIN_CODES.values(), "tail_segment")


@dataclass(frozen=True)
class Named:
    """A count of patients under a name (a manifestation, an organ system, a therapy)."""

    key: str
    label: str
    n_patients: int

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "n_patients": self.n_patients}


@dataclass(frozen=True)
class DomainCall:
    patient: str
    domain: str | None
    how: str  # recorded | derived | unknown, with the reason

    def to_dict(self) -> dict[str, Any]:
        return {"patient": self.patient, "domain": self.domain, "how": self.how}


@dataclass(frozen=True)
class CohortSection:
    n_patients: int
    n_centres: int
    centres: tuple[str, ...]
    age_at_start_years: ContinuousSummary
    follow_up_months: ContinuousSummary
    sex: CategoricalSummary
    drugs: tuple[tuple[str, int], ...]
    variant_domain: CategoricalSummary
    domain_calls: tuple[DomainCall, ...]
    manifestations: tuple[Named, ...]
    manifestation_groups: tuple[Named, ...]
    manifestation_grouping: str
    prior_therapies: tuple[Named, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_patients": self.n_patients,
            "n_centres": self.n_centres,
            "centres": list(self.centres),
            "age_at_start_years": self.age_at_start_years.to_dict(),
            "follow_up_months": self.follow_up_months.to_dict(),
            "sex": self.sex.to_dict(),
            "drugs": dict(self.drugs),
            "variant_domain": self.variant_domain.to_dict(),
            "domain_calls": [d.to_dict() for d in self.domain_calls],
            "manifestations": [m.to_dict() for m in self.manifestations],
            "manifestation_groups": [m.to_dict() for m in self.manifestation_groups],
            "manifestation_grouping": self.manifestation_grouping,
            "prior_therapies": [t.to_dict() for t in self.prior_therapies],
        }


def call_domain(v: PatientView) -> DomainCall:
    """The recorded STAT1 domain, else the one placed by the domain table, else unknown."""
    stat1 = [x for x in v.data.variants if x.gene.upper() == "STAT1"]
    if not stat1:
        return DomainCall(v.patient_id, None, "unknown: no STAT1 variant recorded")
    variant = stat1[0]
    if variant.domain and variant.domain != "unknown":
        return DomainCall(v.patient_id, variant.domain, "recorded")
    if not variant.hgvs_p:
        return DomainCall(v.patient_id, None, "unknown: no protein change recorded")
    try:
        placed = domain_of_variant(variant.hgvs_p)
    except RuleError as exc:
        return DomainCall(v.patient_id, None, f"unknown: {exc}")
    if placed.domain is None:
        return DomainCall(v.patient_id, None, f"unknown: {variant.hgvs_p} is {placed.region}")
    return DomainCall(
        v.patient_id,
        DOMAIN_CODES.get(placed.domain, placed.domain),
        f"derived from {variant.hgvs_p}",
    )


def split_therapies(text: str | None) -> list[str]:
    """'fluconazole; corticosteroids' -> ['fluconazole', 'corticosteroids'] (lower case, unique)."""
    if not text:
        return []
    return list(dict.fromkeys(t.strip().lower() for t in text.split(";") if t.strip()))


def _named(counter: Counter[str], labels: dict[str, str]) -> tuple[Named, ...]:
    ordered = sorted(counter.items(), key=lambda kv: (-kv[1], labels.get(kv[0], kv[0])))
    return tuple(Named(k, labels.get(k, k), n) for k, n in ordered)


GroupFn = Callable[[str], Sequence[tuple[str, str]]]


def cohort_section(views: Sequence[PatientView], group_of: GroupFn | None) -> CohortSection:
    centres = tuple(sorted({v.data.centre for v in views}))
    calls = tuple(call_domain(v) for v in views)
    terms: Counter[str] = Counter()
    labels: dict[str, str] = {}
    groups: Counter[str] = Counter()
    group_labels: dict[str, str] = {}
    for v in views:
        present = [m for m in v.data.manifestations if m.status_at_start in ("active", "resolved")]
        mine: set[str] = set()
        for m in present:
            terms[m.hpo_id] += 1
            labels.setdefault(m.hpo_id, m.hpo_label or m.hpo_id)
            if group_of is not None:
                for gid, glabel in group_of(m.hpo_id):
                    mine.add(gid)
                    group_labels[gid] = glabel
        groups.update(mine)
    therapies: Counter[str] = Counter()
    for v in views:
        therapies.update(split_therapies(v.first.course.prior_therapies))
    drugs = Counter(v.first.drug for v in views)
    return CohortSection(
        n_patients=len(views),
        n_centres=len(centres),
        centres=centres,
        age_at_start_years=describe_continuous(v.age_at_start_years for v in views),
        follow_up_months=describe_continuous(v.follow_up_months for v in views),
        sex=describe_categorical(
            (None if v.data.sex == "unknown" else v.data.sex for v in views),
            categories=SEXES[:3],
        ),
        drugs=tuple(sorted(drugs.items(), key=lambda kv: (-kv[1], kv[0]))),
        variant_domain=describe_categorical(c.domain for c in calls),
        domain_calls=calls,
        manifestations=_named(terms, labels),
        manifestation_groups=_named(groups, group_labels),
        manifestation_grouping=(
            "HPO organ system (children of HP:0000118 Phenotypic abnormality that are ancestors "
            "of the term; a term may fall under several)"
            if group_of is not None
            else "not grouped (option hpo_groups off)"
        ),
        prior_therapies=_named(therapies, {}),
    )


def domain_rule() -> RuleInfo:
    return domain_table().info
