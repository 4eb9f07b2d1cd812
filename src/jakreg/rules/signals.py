"""Safety signals: cited, versioned threshold rules evaluated over lab, adverse-event and course records.

Pure: no I/O beyond reading the shipped rule file. A hit says "meets threshold X (source Y)"; it
is never treatment advice. Rule data: rules/data/safety_signals.yaml (clinical_rules.md §3-§4).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import yaml

from jakreg.rules import ctcae
from jakreg.rules.base import RuleError
from jakreg.rules.units import UnknownAnalyteError, UnknownUnitError, convert

FORMAT = "jakreg-safety-signals/1"
SEVERITIES = ("critical", "warning")
KINDS = ("lab_below", "lab_above_reference", "lab_ctcae_grade", "ae_grade", "ae_serious", "ae_term",
         "course_azole_without_dose_change")  # fmt: skip


class SignalRuleError(RuleError):
    """The safety-signal rule file is malformed."""


@dataclass(frozen=True)
class SignalRule:
    id: str
    version: str
    kind: str
    label: str
    severity: str
    provisional: bool
    source: str
    analyte: str | None = None
    threshold: float | None = None  # in `unit`
    unit: str | None = None
    multiple: float | None = None
    min_grade: int | None = None
    terms: tuple[str, ...] = ()
    drug: str | None = None  # course rules: the drug the rule is about


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[SignalRule, ...]


@dataclass(frozen=True)
class LabRecord:
    """One lab value as stored; `record_id` is the row id in `table`."""

    record_id: int
    patient: str
    date: date | None
    analyte: str
    value: float
    unit: str
    lln: float | None = None
    uln: float | None = None
    baseline: float | None = None  # same unit as value (e.g. the last value before the course)
    clinician_grade: int | None = None
    table: str = "labs"


@dataclass(frozen=True)
class AERecord:
    record_id: int
    patient: str
    date: date | None
    term: str
    grade: int | None = None
    serious: bool = False
    table: str = "adverse_events"


@dataclass(frozen=True)
class CourseRecord:
    """A treatment course with what the course rules read: its azole co-medication flag (recorded per
    course, without dates) and the total daily dose (mg/day) of each of its dose records by date."""

    record_id: int
    patient: str
    date: date | None  # the course start
    course_no: int
    drug: str
    azole: bool
    daily_mg: tuple[float, ...] = ()
    table: str = "treatment_courses"


@dataclass(frozen=True)
class SignalHit:
    rule_id: str
    rule_version: str
    source: str
    severity: str
    provisional: bool
    patient: str
    record_table: str
    record_id: int
    value: str
    threshold: str
    text: str
    date: date | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, int]:
        """Identity of a signal: one per rule and record."""
        return (self.rule_id, self.record_table, self.record_id)


def _g(x: float) -> str:
    return f"{x:g}"


def _need(raw: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in raw or raw[key] in (None, ""):
        raise SignalRuleError(f"{where}: '{key}' is missing; add it")
    return raw[key]


def parse_rules(data: object, where: str = "safety_signals.yaml") -> RuleSet:
    """Validate rule data (as loaded from YAML); every error names the rule and the field."""
    if not isinstance(data, Mapping):
        raise SignalRuleError(f"{where}: expected a mapping with format, version and rules")
    if data.get("format") != FORMAT:
        raise SignalRuleError(f"{where}: format must be {FORMAT!r}, got {data.get('format')!r}")
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise SignalRuleError(f"{where}: 'rules' must be a non-empty list")
    rules: list[SignalRule] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_rules, start=1):
        at = f"{where}: rule {i}"
        if not isinstance(raw, Mapping):
            raise SignalRuleError(f"{at}: expected a mapping")
        rid = str(_need(raw, "id", at))
        at = f"{where}: rule {rid!r}"
        if rid in seen:
            raise SignalRuleError(f"{at}: duplicate id; give each rule its own id")
        seen.add(rid)
        kind = str(_need(raw, "kind", at))
        if kind not in KINDS:
            raise SignalRuleError(f"{at}: kind {kind!r} is not one of {', '.join(KINDS)}")
        severity = str(_need(raw, "severity", at))
        if severity not in SEVERITIES:
            raise SignalRuleError(f"{at}: severity must be critical or warning, got {severity!r}")
        rule = SignalRule(
            id=rid,
            version=str(_need(raw, "version", at)),
            kind=kind,
            label=str(_need(raw, "label", at)),
            severity=severity,
            provisional=bool(raw.get("provisional", True)),
            source=str(_need(raw, "source", at)),
            analyte=raw.get("analyte"),
            threshold=float(raw["threshold"]) if raw.get("threshold") is not None else None,
            unit=raw.get("unit"),
            multiple=float(raw["multiple"]) if raw.get("multiple") is not None else None,
            min_grade=int(raw["min_grade"]) if raw.get("min_grade") is not None else None,
            terms=tuple(str(t).lower() for t in raw.get("terms") or ()),
            drug=str(raw["drug"]) if raw.get("drug") is not None else None,
        )
        try:
            if kind == "lab_below":
                _need(raw, "analyte", at), _need(raw, "threshold", at), _need(raw, "unit", at)
                convert(str(rule.analyte), 1.0, str(rule.unit))
            elif kind == "lab_above_reference":
                _need(raw, "analyte", at), _need(raw, "multiple", at)
                ctcae.terms_for_analyte(str(rule.analyte))
            elif kind in ("lab_ctcae_grade", "ae_grade"):
                _need(raw, "min_grade", at)
            elif kind == "course_azole_without_dose_change":
                _need(raw, "drug", at)
            elif kind == "ae_term" and not rule.terms:
                raise SignalRuleError(f"{at}: 'terms' must list at least one term")
        except (UnknownAnalyteError, UnknownUnitError) as exc:
            raise SignalRuleError(f"{at}: {exc}") from None
        rules.append(rule)
    return RuleSet(version=str(_need(data, "version", where)), rules=tuple(rules))


@cache
def default_rules() -> RuleSet:
    """The shipped rule set (rules/data/safety_signals.yaml)."""
    text = resources.files("jakreg.rules").joinpath("data/safety_signals.yaml").read_text("utf-8")
    return parse_rules(yaml.safe_load(text))


def _text(rule: SignalRule, value: str) -> str:
    prov = " [provisional]" if rule.provisional else ""
    return f"{value} meets threshold {rule.label} (source: {rule.source}){prov}"


def _hit(
    rule: SignalRule, rec: LabRecord | AERecord | CourseRecord, value: str, threshold: str
) -> SignalHit:
    return SignalHit(
        rule_id=rule.id,
        rule_version=rule.version,
        source=rule.source,
        severity=rule.severity,
        provisional=rule.provisional,
        patient=rec.patient,
        record_table=rec.table,
        record_id=rec.record_id,
        value=value,
        threshold=threshold,
        text=_text(rule, value),
        date=rec.date,
    )


def _lab(rule: SignalRule, rec: LabRecord) -> SignalHit | None:
    if rule.kind in ("lab_below", "lab_above_reference") and rec.analyte != rule.analyte:
        return None
    try:
        v = convert(rec.analyte, rec.value, rec.unit)
    except (UnknownAnalyteError, UnknownUnitError):
        return None  # not a value this rule can read; the import has already reported it
    shown = f"{rec.analyte} {_g(rec.value)} {rec.unit}"
    if rule.kind == "lab_below":
        assert rule.threshold is not None
        assert rule.unit is not None
        limit = convert(rec.analyte, rule.threshold, rule.unit).value
        if v.value < limit:
            return _hit(rule, rec, shown, f"< {_g(rule.threshold)} {rule.unit}")
        return None
    if rule.kind == "lab_above_reference":
        assert rule.multiple is not None
        if rec.uln is None:
            return None
        ref, name = rec.uln, "ULN"
        if rec.baseline is not None and rec.baseline > rec.uln:
            ref, name = rec.baseline, "baseline"
        if rec.value > rule.multiple * ref:
            thr = f"> {_g(rule.multiple)}× {name} ({_g(rule.multiple * ref)} {rec.unit})"
            return _hit(rule, rec, shown, thr)
        return None
    if rule.kind == "lab_ctcae_grade":
        assert rule.min_grade is not None
        best: int | None = rec.clinician_grade
        if best is None:
            for term in ctcae.terms_for_analyte(rec.analyte):
                g = ctcae.grade(
                    term, rec.value, rec.unit, lln=rec.lln, uln=rec.uln, baseline=rec.baseline
                ).grade
                if g is not None and (best is None or g > best):
                    best = g
        if best is not None and best >= rule.min_grade:
            return _hit(rule, rec, f"{shown} (CTCAE grade {best})", f"grade ≥ {rule.min_grade}")
    return None


def _ae(rule: SignalRule, rec: AERecord) -> SignalHit | None:
    if rule.kind == "ae_grade":
        assert rule.min_grade is not None
        if rec.grade is not None and rec.grade >= rule.min_grade:
            return _hit(rule, rec, f"{rec.term} grade {rec.grade}", f"grade ≥ {rule.min_grade}")
    elif rule.kind == "ae_serious":
        if rec.serious:
            return _hit(rule, rec, f"{rec.term} (serious)", "serious = yes")
    elif rule.kind == "ae_term":
        term = rec.term.lower()
        for t in rule.terms:
            if re.search(rf"\b{re.escape(t)}\b", term):
                return _hit(rule, rec, rec.term, f"term names {t!r}")
    return None


def _course(rule: SignalRule, rec: CourseRecord) -> SignalHit | None:
    """An azole recorded for a course of the rule's drug whose dose records show one dose level only.
    No dose record: nothing to read, no signal. The flag has no dates, so "no dose change" is over the
    whole course (a course started at a reduced dose with the azole also meets it: the text says what
    was met, not that the dose was wrong)."""
    if rule.kind != "course_azole_without_dose_change" or rec.drug != rule.drug or not rec.azole:
        return None
    if not rec.daily_mg or len(set(rec.daily_mg)) > 1:
        return None
    shown = (f"{rec.drug} course {rec.course_no} with azole co-medication, "
             f"{len(rec.daily_mg)} dose record(s) all {_g(rec.daily_mg[0])} mg/day")  # fmt: skip
    return _hit(rule, rec, shown, "azole co-medication = yes and one dose level in the course")


def evaluate(
    labs: Iterable[LabRecord] = (),
    adverse_events: Iterable[AERecord] = (),
    courses: Iterable[CourseRecord] = (),
    *,
    rules: RuleSet | Sequence[SignalRule] | None = None,
) -> list[SignalHit]:
    """Every (rule, record) pair that meets a rule's threshold, in input order."""
    if rules is None:
        rs: Sequence[SignalRule] = default_rules().rules
    elif isinstance(rules, RuleSet):
        rs = rules.rules
    else:
        rs = rules
    lab_rules = [r for r in rs if r.kind.startswith("lab_")]
    ae_rules = [r for r in rs if r.kind.startswith("ae_")]
    course_rules = [r for r in rs if r.kind.startswith("course_")]
    hits: list[SignalHit] = []
    for lab in labs:
        hits.extend(h for r in lab_rules if (h := _lab(r, lab)) is not None)
    for ae in adverse_events:
        hits.extend(h for r in ae_rules if (h := _ae(r, ae)) is not None)
    for course in courses:
        hits.extend(h for r in course_rules if (h := _course(r, course)) is not None)
    return hits
