"""Rows of the federated extract, built from a study's results (pure: no database, no files).

One long table, one row per analysis input; the column `record` says which input a row is:
patient, course, idda, response, adverse_event. No local ids and no calendar dates: every time is
a count of days since the start of the patient's first JAK-inhibitor course (or months on drug).
The patient key is a random-looking token that is new in every extract (it cannot be linked to
the registry's pseudonym without the registry's salt, which never leaves the registry).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from typing import Any

from jakreg.analysis.prepare import PatientView
from jakreg.analysis.results import StudyResults

SCHEMA = "jakreg-federated"
SCHEMA_VERSION = 1

COLUMNS: tuple[tuple[str, str, str], ...] = (
    # (name, type, meaning) — the contract documented in docs/federated.md
    ("schema_version", "int", f"extract schema version ({SCHEMA_VERSION}); checked on read"),
    ("record", "str", "patient | course | idda | response | adverse_event"),
    (
        "patient_key",
        "str",
        "token for the patient, new in every extract (no local id, no pseudonym)",
    ),
    (
        "course_no",
        "int",
        "JAK-inhibitor course number (1 = first); course, response, adverse_event",
    ),
    ("sex", "str", "patient: female | male | other | unknown"),
    ("age_years", "float", "patient: age at the first course start, years (1 decimal)"),
    ("drug", "str", "course: JAK inhibitor"),
    ("start_day", "int", "course: start, days since the first course start"),
    ("days_on_drug", "int", "course: days on drug to stop, last follow-up or cut-off"),
    ("months_on_drug", "float", "course: the same in months (days / 30.4375)"),
    ("stopped", "int", "course: 1 = stopped by the cut-off (drug-survival event), 0 = censored"),
    ("stop_reason", "str", "course: reason of the stop (vocabulary of the workbook), else empty"),
    ("before", "float", "idda: score before the course (window rule), complete pairs only"),
    ("before_day", "int", "idda: day of the 'before' score, days since the first course start"),
    ("under", "float", "idda: score under the course (window rule)"),
    ("under_day", "int", "idda: day of the 'under' score"),
    (
        "response",
        "str",
        "response: latest recorded global response CR | PR | NR | NE, empty = none",
    ),
    ("day", "int", "adverse_event: onset, days since the first course start"),
    ("term", "str", "adverse_event: term"),
    ("category", "str", "adverse_event: category (infection, ...)"),
    ("grade", "int", "adverse_event: CTCAE grade, empty when not graded"),
    ("serious", "str", "adverse_event: serious yes | no | unknown"),
)
COLUMN_NAMES = tuple(name for name, _, _ in COLUMNS)


def _keys(views: Sequence[PatientView], salt: bytes) -> dict[str, str]:
    return {
        v.patient_id: hashlib.sha256(salt + v.patient_id.encode()).hexdigest()[:16] for v in views
    }


def _row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMN_NAMES)
    row.update(schema_version=SCHEMA_VERSION, **values)
    return row


def extract_rows(
    results: StudyResults, views: Sequence[PatientView], *, salt: bytes | None = None
) -> list[dict[str, Any]]:
    """Every row of the extract, sorted by key so the order reveals nothing about the registry."""
    key = _keys(views, salt if salt is not None else secrets.token_bytes(16))
    rows = list(_rows(results, views, key))
    rows.sort(key=lambda r: (r["patient_key"], r["record"], r["course_no"] or 0, r["day"] or 0))
    return rows


def _rows(
    results: StudyResults, views: Sequence[PatientView], key: dict[str, str]
) -> Iterator[dict[str, Any]]:
    cutoff = results.data.cutoff
    for v in views:
        k = key[v.patient_id]
        day0 = v.first.start
        age = v.age_at_start_years
        yield _row(record="patient", patient_key=k, sex=v.data.sex,
                   age_years=round(age, 1) if age is not None else None)  # fmt: skip
        for c in v.courses:
            tod = c.time_on_drug
            yield _row(
                record="course", patient_key=k, course_no=c.course_no, drug=c.drug,
                start_day=(c.start - day0).days, days_on_drug=tod.days,
                months_on_drug=round(tod.months, 6), stopped=int(tod.event),
                stop_reason=c.stop_reason if tod.event else None,
            )  # fmt: skip
        for e in v.data.adverse_events:
            if e.onset > cutoff:
                continue
            yield _row(
                record="adverse_event", patient_key=k, course_no=e.course_no,
                day=(e.onset - day0).days, term=e.term, category=e.category, grade=e.grade,
                serious=e.serious,
            )  # fmt: skip
    first_of = {v.patient_id: v.first for v in views}
    for s in results.idda.patients:
        if s.before is None or s.under is None:
            continue
        day0 = first_of[s.patient].start
        yield _row(
            record="idda", patient_key=key[s.patient], course_no=s.course_no,
            before=s.before.value, before_day=(s.before.on - day0).days,
            under=s.under.value, under_day=(s.under.on - day0).days,
        )  # fmt: skip
    firsts = {(v.patient_id, v.first.course_no) for v in views}
    for r in results.response.courses:
        if (r.patient, r.course_no) in firsts:
            yield _row(record="response", patient_key=key[r.patient], course_no=r.course_no,
                       response=r.recorded)  # fmt: skip


def manifest(
    results: StudyResults, files: dict[str, str], *, n_patients: int, table_format: str
) -> dict[str, Any]:
    """manifest.json: schema, rule versions and the hashes that identify the data."""
    from jakreg import __version__

    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "jakreg_version": __version__,
        "table_format": table_format,
        "files": files,  # name -> sha256 of the file's bytes
        "source_data_sha256": results.data.sha256,
        "n_patients": n_patients,
        "synthetic_example": results.data.synthetic_example,
        "rules": [
            {"name": r.name, "version": r.version, "status": r.status.value}
            for r in results.methods.rules
        ],
        "options": {
            "score": results.options.score,
            "window_rule": results.options.window_rule.info.label(),
            "response_rule": results.options.response_rule.info.label(),
        },
        "columns": [{"name": n, "type": t, "meaning": m} for n, t, m in COLUMNS],
        "time_origin": "start of the patient's first JAK-inhibitor course (day 0)",
    }
