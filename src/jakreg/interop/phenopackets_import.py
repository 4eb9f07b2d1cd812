"""Read phenopacket files (or folders of them) into study sheets, as external or literature cases.

Native fields are mapped first; jakreg extensions (phenopackets_common) then complete the rows they name.
What cannot be mapped is reported as a warning with its file and JSON path, never silently dropped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import phenopackets as pp
from google.protobuf.json_format import MessageToDict, Parse, ParseError

from jakreg.ingest.problems import Problem, ProblemLog, Severity
from jakreg.ingest.vocabularies import hgvs_problem
from jakreg.interop import codes
from jakreg.interop.convert import Converted, Origin
from jakreg.interop.phenopackets_common import EXTENSION_PREFIX, duration_to_years
from jakreg.model.fields import PSEUDONYM_PATTERN
from jakreg.model.vocab import Drug, StopReason

Row = dict[str, Any]
_SEX = {pp.FEMALE: "female", pp.MALE: "male", pp.OTHER_SEX: "other", pp.UNKNOWN_SEX: "unknown"}
_VITAL = {pp.VitalStatus.ALIVE: "alive", pp.VitalStatus.DECEASED: "deceased"}
_ZYGOSITY = {codes.HETEROZYGOUS[0]: "heterozygous", codes.HOMOZYGOUS[0]: "homozygous"}
_DRUGS = {code: drug for drug, (code, _) in codes.DRUGS.items()}
_FREQUENCY = {codes.TWICE_DAILY[0]: 2.0}


def read_phenopackets(
    path: Path,
    log: ProblemLog,
    *,
    centre: str = "EXT",
    centre_name: str | None = "External cases (phenopackets)",
    country: str = "XX",
) -> Converted:
    """Read one phenopacket JSON file or every ``*.json`` in a folder.

    Files without a jakreg centre extension go to ``centre``; a centres row (``centre_name``,
    ``country``) is added for it unless ``centre_name`` is None (the centre already exists).
    """
    converted = Converted(path, label=path.name)
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files or not all(f.exists() for f in files):
        log.add(Problem(path.name, None, None, None, None, "no phenopacket JSON files found",
                        "give a phenopacket .json file or a folder of them"))  # fmt: skip
        return converted
    centres: dict[str, Row] = {}
    for f in files:
        _File(f, log, converted, centre, centres).read()
    if centre_name is not None and centre not in centres and _uses(converted, centre):
        centres[centre] = {"centre": centre, "name": centre_name, "country": country}
    for row in centres.values():
        converted.sheet("centres").add(row, Origin(path.name, None, None, {}, "metaData"))
    return converted


def _uses(converted: Converted, centre: str) -> bool:
    return any(v.get("centre") == centre for _, v in converted.sheet("patients").rows)


def _timestamp_day(ts: Any) -> str:
    return str(ts.ToJsonString())[:10]


class _File:
    def __init__(self, path: Path, log: ProblemLog, converted: Converted, centre: str,
                 centres: dict[str, Row]) -> None:  # fmt: skip
        self.path = path
        self.log = log
        self.converted = converted
        self.centre = centre
        self.centres = centres
        self.used: set[str] = set()
        self.built: dict[str, tuple[str, Row]] = {}  # JSON path -> (sheet, row)
        self.pid = ""

    def warn(
        self, where: str, message: str, fix: str, severity: Severity = Severity.warning
    ) -> None:
        self.log.add(Problem(self.path.name, None, None, where, None, message, fix, severity))

    def add(self, sheet: str, at: str, values: Row, columns: dict[str, str]) -> Row:
        values = {"patient_id": self.pid, **values} if sheet != "centres" else values
        origin = Origin(
            self.path.name,
            None,
            None,
            {k: f"{at}.{v}" if at else v for k, v in columns.items()},
            at or None,
        )
        row = self.converted.sheet(sheet).add(values, origin)
        if at:
            self.built[at] = (sheet, row)
        return row

    def read(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8-sig")
            packet = Parse(text, pp.Phenopacket(), ignore_unknown_fields=False)
        except (OSError, UnicodeDecodeError, ParseError) as exc:
            self.warn("", f"not a readable phenopacket ({exc})"[:300],
                      "check the file against the Phenopacket v2 schema", Severity.error)  # fmt: skip
            return
        self._patient(packet)
        for n, f in enumerate(packet.phenotypic_features):
            self._feature(n, f)
        self._variants(packet)
        for n, m in enumerate(packet.measurements):
            self._measurement(n, m)
        for n, a in enumerate(packet.medical_actions):
            self._action(n, a)
        self._extensions(packet)
        for n, disease in enumerate(packet.diseases):
            if disease.term.id == codes.STAT1_GOF[0]:
                self.used.add(f"diseases[{n}]")
        self._unmapped(MessageToDict(packet), "")

    def _patient(self, packet: pp.Phenopacket) -> None:
        pid = packet.id or packet.subject.id
        clean = re.sub(r"[^A-Za-z0-9._-]", "_", pid)[:32]
        if clean != pid:
            self.warn("id", f"the id {pid!r} is not a jakreg pseudonym; it is stored as {clean!r}",
                      "nothing to do, or give the file a short id of letters, digits, . _ -")  # fmt: skip
        if not re.match(PSEUDONYM_PATTERN, clean):
            clean = "X" + clean[:31]
        self.pid = clean
        self.used |= {"id", "subject.id", "subject.sex", "subject.vitalStatus.status", "metaData"}
        citation = next((r.id for r in packet.meta_data.external_references
                         if r.id.startswith(("PMID:", "DOI:"))), None)  # fmt: skip
        values: Row = {
            "centre": self.centre,
            "sex": _SEX.get(packet.subject.sex, "unknown"),
            "vital_status": _VITAL.get(packet.subject.vital_status.status, "unknown"),
            "source": "literature" if citation else "external",
            "citation": citation,
        }
        self.add("patients", "subject", values, {"sex": "sex", "vital_status": "vitalStatus"})

    def _feature(self, n: int, f: pp.PhenotypicFeature) -> None:
        at = f"phenotypicFeatures[{n}]"
        self.used |= {f"{at}.type", f"{at}.excluded"}
        values: Row = {"hpo_id": f.type.id, "hpo_label": f.type.label or None,
                       "status_at_start": "never" if f.excluded else "active"}  # fmt: skip
        if f.HasField("resolution") and not f.excluded:
            values["status_at_start"] = "resolved"
            self.used.add(f"{at}.resolution")
        if f.onset.HasField("age"):
            years = duration_to_years(f.onset.age.iso8601duration)
            if years is not None:
                values["onset_age_years"] = years
                self.used.add(f"{at}.onset")
        self.add("manifestations", at, values, {"hpo_id": "type.id", "hpo_label": "type.label",
                                                 "onset_age_years": "onset"})  # fmt: skip

    def _variants(self, packet: pp.Phenopacket) -> None:
        for i, interpretation in enumerate(packet.interpretations):
            for n, g in enumerate(interpretation.diagnosis.genomic_interpretations):
                at = f"interpretations[{i}].diagnosis.genomicInterpretations[{n}]"
                d = g.variant_interpretation.variation_descriptor
                base = f"{at}.variantInterpretation.variationDescriptor"
                values: Row = {"gene": d.gene_context.symbol or None}
                self.used |= {f"{base}.geneContext", f"{base}.allelicState", f"{base}.id",
                              f"{at}.subjectOrBiosampleId", f"{at}.interpretationStatus",
                              f"interpretations[{i}].id", f"interpretations[{i}].progressStatus"}  # fmt: skip
                if interpretation.diagnosis.disease.id == codes.STAT1_GOF[0]:
                    self.used.add(f"interpretations[{i}].diagnosis.disease")
                values["zygosity"] = _ZYGOSITY.get(d.allelic_state.id, "unknown")
                for k, e in enumerate(d.expressions):
                    kind = {"hgvs.c": "c.", "hgvs.p": "p."}.get(e.syntax)
                    if kind is None:
                        continue
                    accession, _, change = e.value.rpartition(":")
                    wrong = hgvs_problem(change, kind)
                    self.used.add(f"{base}.expressions[{k}]")
                    if wrong is not None:
                        self.warn(f"{base}.expressions[{k}]", f"{e.value}: {wrong}; not imported",
                                  "jakreg's HGVS check cannot read this notation; add the variant by hand")  # fmt: skip
                        continue
                    values["hgvs_c" if kind == "c." else "hgvs_p"] = change
                    if kind == "c." and re.match(r"^(NM|NR|XM|ENST)", accession):
                        values["transcript"] = accession
                if values.get("hgvs_c") is None and values.get("hgvs_p") is None:
                    self.warn(at, "no HGVS change jakreg can read; the variant is not imported",
                              "add the variant by hand")  # fmt: skip
                    continue
                self.add(
                    "variants",
                    at,
                    values,
                    {"hgvs_c": "variantInterpretation.variationDescriptor.expressions"},
                )

    def _measurement(self, n: int, m: pp.Measurement) -> None:
        at = f"measurements[{n}]"
        if not (m.value.HasField("quantity") and m.time_observed.HasField("timestamp")):
            return
        day = _timestamp_day(m.time_observed.timestamp)
        value = m.value.quantity.value
        unit = m.value.quantity.unit.label
        kind, _, code = m.assay.id.partition("/")
        columns = {"value": "value", "date": "timeObserved"}
        if m.assay.id in (codes.BODY_WEIGHT[0], codes.BODY_HEIGHT[0]):
            column = "weight_kg" if m.assay.id == codes.BODY_WEIGHT[0] else "height_cm"
            same = next((r for s, r in self.built.values()
                         if s == "body_measurements" and r["date"] == day and column not in r), None)  # fmt: skip
            if same is not None:
                same[column] = value
            else:
                self.add("body_measurements", at, {"date": day, column: value}, {column: "value"})
        elif kind == "jakreg:score":
            self.add("assessments", at, {"date": day, "score": code, "total": value}, columns)
        elif kind == "jakreg:lab":
            self.add(
                "labs", at, {"date": day, "analyte": code, "value": value, "unit": unit}, columns
            )
        elif kind == "jakreg:biomarker":
            values = {"date": day, "marker": code, "value": value, "unit": unit,
                      "marker_detail": m.description or None}  # fmt: skip
            self.add("biomarkers", at, values, columns)
        else:
            return
        self.used.add(at)

    def _action(self, n: int, a: pp.MedicalAction) -> None:
        at = f"medicalActions[{n}]"
        if a.HasField("procedure") and a.procedure.code.id == codes.HSCT[0]:
            self.used.add(at)
            day = (
                _timestamp_day(a.procedure.performed.timestamp)
                if a.procedure.performed.HasField("timestamp")
                else None
            )
            self.add("hsct", at, {"date": day}, {"date": "procedure.performed"})
            return
        if not a.HasField("treatment"):
            return
        t = a.treatment
        drug = _DRUGS.get(t.agent.id)
        if drug is None:
            name = (
                t.agent.id.removeprefix("jakreg:drug/")
                if t.agent.id.startswith("jakreg:drug/")
                else t.agent.label.lower()
            )
            drug = Drug(name) if name in Drug.__members__ else None
        if drug is None:
            self.warn(f"{at}.treatment.agent", f"{t.agent.id} {t.agent.label} is not a JAK inhibitor jakreg knows",
                      "jakreg records JAK-inhibitor courses only; not imported")  # fmt: skip
            return
        self.used |= {at}
        reason = a.treatment_termination_reason.id.removeprefix("jakreg:stop_reason/")
        course_no = sum(1 for s, _ in self.built.values() if s == "courses") + 1
        values: Row = {"drug": drug.value, "course_no": course_no,
                       "stop_reason": reason if reason in StopReason.__members__ else None}  # fmt: skip
        starts = [i.interval.start for i in t.dose_intervals if i.interval.HasField("start")]
        if starts:
            values["start_date"] = _timestamp_day(min(starts, key=lambda s: s.ToJsonString()))
        course = self.add("courses", at, values, {"drug": "treatment.agent", "start_date": "treatment.doseIntervals",
                                                  "stop_reason": "treatmentTerminationReason"})  # fmt: skip
        for k, i in enumerate(t.dose_intervals):
            per_day = _FREQUENCY.get(i.schedule_frequency.id)
            if per_day is None and i.schedule_frequency.id.startswith("jakreg:doses_per_day/"):
                per_day = float(i.schedule_frequency.id.rpartition("/")[2])
            dose = {"course_no": course["course_no"], "mg_per_dose": i.quantity.value, "doses_per_day": per_day,
                    "date": _timestamp_day(i.interval.start) if i.interval.HasField("start") else None}  # fmt: skip
            self.add("doses", f"{at}.treatment.doseIntervals[{k}]", dose,
                     {"mg_per_dose": "quantity", "doses_per_day": "scheduleFrequency", "date": "interval.start"})  # fmt: skip

    def _extensions(self, packet: pp.Phenopacket) -> None:
        for n, ref in enumerate(packet.meta_data.external_references):
            if not ref.id.startswith(EXTENSION_PREFIX):
                continue
            where = f"metaData.externalReferences[{n}]"
            sheet = ref.id[len(EXTENSION_PREFIX) :]
            try:
                values = json.loads(ref.description)
            except json.JSONDecodeError:
                self.warn(
                    where,
                    "a jakreg extension that is not JSON",
                    "re-export from jakreg",
                    Severity.error,
                )
                continue
            values = {k: v for k, v in values.items() if k != "agent_note"}
            if sheet == "patients":
                self.used.add("subject.timeAtLastEncounter")  # carried as dates by the extension
            if sheet == "centres":
                self.centres[str(values.get("centre"))] = values
                continue
            if ref.reference:
                found = self.built.get(ref.reference)
                if found is None or found[0] != sheet:
                    self.warn(where, f"the extension completes {ref.reference}, which was not imported",
                              "re-export from jakreg", Severity.error)  # fmt: skip
                    continue
                found[1].update(values)
                if sheet == "courses":
                    self._renumber(ref.reference, found[1])
            else:
                self.add(sheet, "", values, dict.fromkeys(values, f"{where}.description"))

    def _renumber(self, at: str, course: Row) -> None:
        for path, (sheet, row) in self.built.items():
            if sheet == "doses" and path.startswith(f"{at}.treatment"):
                row["course_no"] = course["course_no"]

    def _unmapped(self, data: Any, at: str) -> None:
        if at and any(
            at == u or at.startswith(u + ".") or at.startswith(u + "[") for u in self.used
        ):
            return
        inside = [
            u for u in self.used if u.startswith(at + ".") or u.startswith(at + "[") or not at
        ]
        if at and not inside:
            self.warn(
                at,
                "jakreg has no place for this; not imported",
                "nothing to do, or record it by hand",
            )
            return
        if isinstance(data, dict):
            for k, v in data.items():
                self._unmapped(v, f"{at}.{k}" if at else k)
        elif isinstance(data, list):
            for i, v in enumerate(data):
                self._unmapped(v, f"{at}[{i}]")
        else:
            self.warn(
                at,
                "jakreg has no place for this; not imported",
                "nothing to do, or record it by hand",
            )
