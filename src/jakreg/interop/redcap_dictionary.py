"""The REDCap data dictionary of the jakreg study, generated from the row types so it cannot drift.

One record per patient (``record_id`` = the study pseudonym). The ``patient`` form is not repeating; every
other sheet is a repeating instrument of the same name. The centre is the record's data access group.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annotated_types import Ge, Le

from jakreg.model.introspect import allowed_values, base_type
from jakreg.model.sheets import SHEETS, SheetSpec
from jakreg.rules import units

COLUMNS: tuple[str, ...] = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)

RECORD_ID = "record_id"
PATIENT_FORM = "patient"
# Sheets not in REDCap: centres are study set-up (one data access group per centre).
NOT_IN_REDCAP = ("centres",)

# Field names must be unique across a REDCap project: each repeating instrument prefixes its columns.
PREFIX: dict[str, str] = {
    "patients": "",
    "variants": "var_",
    "manifestations": "mani_",
    "courses": "crs_",
    "doses": "dose_",
    "body_measurements": "body_",
    "assessments": "asmt_",
    "assessment_items": "item_",
    "labs": "lab_",
    "biomarkers": "bmk_",
    "adverse_events": "ae_",
    "responses": "resp_",
    "hsct": "hsct_",
}

# Show a field only when it can apply (every name here is a field of the same form).
BRANCHING: dict[tuple[str, str], str] = {
    ("patients", "citation"): "[source] <> 'cohort'",
    ("courses", "stop_reason"): "[crs_stop_date] <> ''",
    ("courses", "stop_detail"): "[crs_stop_reason] <> ''",
    ("adverse_events", "action_taken"): "[ae_attribution] <> 'unrelated'",
}

NOTES = {"birth_year_month": "YYYY-MM (year and month only; never the full date)"}
FREE_TEXT_NOTES = ("indication", "prior_therapies", "concomitant_therapies", "stop_detail")

_LABELS = {
    "CR": "CR (complete response)", "PR": "PR (partial response)", "NR": "NR (no response)",
    "NE": "NE (not evaluable)", "n_terminal": "N-terminal", "dna_binding": "DNA-binding",
    "sh2": "SH2", "pstat1": "pSTAT1", "stat1_total": "Total STAT1", "isg_score": "ISG score",
    "cxcl10": "CXCL10", "ifn_gamma": "IFN-gamma", "th17_cells": "Th17 cells",
    "tfh_cells": "Tfh cells", "il17a_t_cells": "IL-17A+ T cells", "hsct": "HSCT",
}  # fmt: skip


@dataclass(frozen=True)
class DictionaryField:
    """One row of the REDCap data dictionary and the jakreg column it holds."""

    name: str
    form: str
    sheet: str
    column: str | None  # None: record_id holds patient_id of every sheet
    values: dict[str, str]  # the 18 columns, by header text

    def cell(self, header: str) -> str:
        return self.values.get(header, "")


def form_of(sheet: str) -> str:
    return PATIENT_FORM if sheet == "patients" else sheet


def sheet_of(form: str) -> str:
    return "patients" if form == PATIENT_FORM else form


def redcap_specs() -> list[SheetSpec]:
    return [s for s in SHEETS if s.name not in NOT_IN_REDCAP]


def field_name(sheet: str, column: str) -> str:
    if column == "patient_id":
        return RECORD_ID
    return PREFIX[sheet] + column


def choice_label(value: str) -> str:
    if value in _LABELS:
        return _LABELS[value]
    return value.replace("_", " ").capitalize()


def choices(sheet: str, column: str, annotation: Any) -> list[tuple[str, str]]:
    if (sheet, column) == ("labs", "analyte"):
        return [(code, a.label) for code, a in sorted(units.ANALYTES.items())]
    return [(v, choice_label(v)) for v in allowed_values(annotation) or []]


def _limits(metadata: list[Any]) -> tuple[str, str]:
    low = next((m.ge for m in metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in metadata if isinstance(m, Le)), None)
    shown = [("" if v is None else f"{v:g}") for v in (low, high)]
    return shown[0], shown[1]


def dictionary_fields() -> list[DictionaryField]:
    """Every field of the REDCap project, forms in the order of the study sheets."""
    fields: list[DictionaryField] = []
    for spec in redcap_specs():
        form = form_of(spec.name)
        first = True
        for column, info in spec.row.model_fields.items():
            if column == "patient_id":
                if spec.name != "patients":
                    continue
                values = {
                    "Field Type": "text",
                    "Field Label": "Study pseudonym (record id)",
                    "Field Note": info.description or "",
                    "Required Field?": "y",
                }
                fields.append(_field(RECORD_ID, form, spec, "patient_id", values, first))
                first = False
                continue
            if spec.name == "patients" and column == "centre":
                continue  # the record's data access group
            fields.append(_field(field_name(spec.name, column), form, spec, column,
                                 _values(spec, column, info), first))  # fmt: skip
            first = False
    return fields


def _field(
    name: str, form: str, spec: SheetSpec, column: str, values: dict[str, str], first: bool
) -> DictionaryField:
    values = dict(values)
    values["Variable / Field Name"] = name
    values["Form Name"] = form
    values["Field Annotation"] = f"jakreg: {spec.name}.{column}"
    if first:
        values["Section Header"] = spec.description
    return DictionaryField(name, form, spec.name, column, values)


def _values(spec: SheetSpec, column: str, info: Any) -> dict[str, str]:
    base = base_type(info.annotation)
    values = {"Field Label": info.description or column}
    listed = choices(spec.name, column, info.annotation)
    if listed:
        values["Field Type"] = "dropdown"
        values["Choices, Calculations, OR Slider Labels"] = " | ".join(
            f"{code}, {label}" for code, label in listed
        )
    elif base is dt.date:
        values.update(
            {"Field Type": "text", "Text Validation Type OR Show Slider Number": "date_ymd"}
        )
    elif base in (int, float):
        low, high = _limits(info.metadata)
        values.update(
            {
                "Field Type": "text",
                "Text Validation Type OR Show Slider Number": "integer"
                if base is int
                else "number",
                "Text Validation Min": low,
                "Text Validation Max": high,
            }
        )
    elif column in FREE_TEXT_NOTES:
        values["Field Type"] = "notes"
    else:
        values["Field Type"] = "text"
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    note = NOTES.get(column) or (f"unit: {extra['unit']}" if "unit" in extra else "")
    if note:
        values["Field Note"] = note
    if column == "local_id":
        values["Identifier?"] = "y"
    if info.is_required():
        values["Required Field?"] = "y"
    if (spec.name, column) in BRANCHING:
        values["Branching Logic (Show field only if...)"] = BRANCHING[(spec.name, column)]
    return values


def dictionary_rows() -> list[list[str]]:
    return [[f.cell(h) for h in COLUMNS] for f in dictionary_fields()]


def render_dictionary() -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(dictionary_rows())
    return buf.getvalue()


def write_dictionary(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_dictionary(), encoding="utf-8")
    return path


def repeating_instruments() -> list[str]:
    return [form_of(s.name) for s in redcap_specs() if s.name != "patients"]
