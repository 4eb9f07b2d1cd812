"""Write one GA4GH Phenopacket v2 JSON per patient, with the JAK-inhibitor courses as medical actions.

Everything jakreg holds goes either into a native phenopacket field or into a documented jakreg extension
(see phenopackets_common), so an import gives the same rows back; only ``local_id`` never leaves.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phenopackets as pp
from google.protobuf.json_format import MessageToJson

from jakreg import __version__
from jakreg.export.workbook import Table
from jakreg.ingest.vocabularies import hpo_version
from jakreg.interop import codes
from jakreg.interop.phenopackets_common import (
    EXTENSION_PREFIX,
    duration_to_years,
    extension_text,
    months_between,
    timestamp_text,
    years_to_duration,
)
from jakreg.model.vocab import Drug, Response, StopReason, Zygosity
from jakreg.rules import units

Row = dict[str, Any]
SCHEMA_VERSION = "2.0.2"
_SEX = {"female": pp.FEMALE, "male": pp.MALE, "other": pp.OTHER_SEX, "unknown": pp.UNKNOWN_SEX}
_VITAL = {"alive": pp.VitalStatus.ALIVE, "deceased": pp.VitalStatus.DECEASED,
          "unknown": pp.VitalStatus.UNKNOWN_STATUS}  # fmt: skip


def _oc(code: tuple[str, str]) -> pp.OntologyClass:
    return pp.OntologyClass(id=code[0], label=code[1])


def _time(day: dt.date) -> pp.TimeElement:
    element = pp.TimeElement()
    element.timestamp.FromJsonString(timestamp_text(day))
    return element


@dataclass
class _Packet:
    """One patient's phenopacket under construction, with the extensions it collects."""

    patient: Row
    packet: pp.Phenopacket = field(default_factory=pp.Phenopacket)
    extensions: list[pp.ExternalReference] = field(default_factory=list)

    def extend(self, sheet: str, row: Row, carried: Iterable[str], at: str = "") -> None:
        """Keep the columns of ``row`` that the native element at ``at`` does not carry."""
        skip = {"patient_id", *carried}
        rest = {k: v for k, v in row.items() if k not in skip and v is not None}
        if rest or not at:
            self.extensions.append(
                pp.ExternalReference(
                    id=EXTENSION_PREFIX + sheet, reference=at, description=extension_text(rest)
                )
            )


def phenopacket(patient: Row, rows: dict[str, list[Row]], centre: Row | None) -> pp.Phenopacket:
    """The phenopacket of one patient; ``rows`` are the patient's rows per sheet."""
    b = _Packet(patient)
    pid = str(patient["patient_id"])
    b.packet.id = pid
    _subject(b)
    if centre is not None:
        b.extend("centres", centre, ())
    for n, m in enumerate(rows.get("manifestations", [])):
        _feature(b, n, m)
    _variants(b, rows.get("variants", []))
    _measurements(b, rows)
    _courses(b, rows)
    for r in rows.get("assessment_items", []) + rows.get("responses", []):
        b.extend("assessment_items" if "item" in r else "responses", r, ())
    for r in rows.get("adverse_events", []):
        b.extend("adverse_events", r, ())
    _meta(b, rows)
    return b.packet


def _subject(b: _Packet) -> None:
    p = b.patient
    s = b.packet.subject
    s.id = str(p["patient_id"])
    s.sex = _SEX[str(p["sex"])]
    s.vital_status.status = _VITAL[str(p["vital_status"])]
    if p.get("birth_year_month") and p.get("last_follow_up"):
        months = months_between(str(p["birth_year_month"]), p["last_follow_up"])
        s.time_at_last_encounter.age.iso8601duration = years_to_duration(months / 12)
    b.extend("patients", p, ("sex", "vital_status", "citation", "local_id"), "subject")


def _feature(b: _Packet, n: int, m: Row) -> None:
    f = b.packet.phenotypic_features.add()
    f.type.CopyFrom(pp.OntologyClass(id=m["hpo_id"], label=m.get("hpo_label") or ""))
    carried = {"hpo_id", "hpo_label"}
    if m["status_at_start"] == "never":
        f.excluded = True
        carried.add("status_at_start")
    age = m.get("onset_age_years")
    if age is not None:
        f.onset.age.iso8601duration = years_to_duration(age)
        if duration_to_years(years_to_duration(age)) == age:
            carried.add("onset_age_years")
    b.extend("manifestations", m, carried, f"phenotypicFeatures[{n}]")


def _variants(b: _Packet, variants: list[Row]) -> None:
    if not variants:
        return
    pid = b.packet.id
    disease = _oc(codes.STAT1_GOF)
    b.packet.diseases.add().term.CopyFrom(disease)
    interpretation = b.packet.interpretations.add(id=f"{pid}-interpretation")
    interpretation.progress_status = pp.Interpretation.ProgressStatus.SOLVED
    interpretation.diagnosis.disease.CopyFrom(disease)
    for n, v in enumerate(variants):
        g = interpretation.diagnosis.genomic_interpretations.add(subject_or_biosample_id=pid)
        g.interpretation_status = pp.GenomicInterpretation.InterpretationStatus.CAUSATIVE
        d = g.variant_interpretation.variation_descriptor
        d.id = f"{pid}-variant-{n + 1}"
        d.gene_context.symbol = str(v["gene"])
        if v["gene"] == codes.STAT1_GENE[1]:
            d.gene_context.value_id = codes.STAT1_GENE[0]
        if v.get("hgvs_c"):
            prefix = f"{v['transcript']}:" if v.get("transcript") else ""
            d.expressions.add(syntax="hgvs.c", value=prefix + str(v["hgvs_c"]))
        if v.get("hgvs_p"):
            d.expressions.add(syntax="hgvs.p", value=str(v["hgvs_p"]))
        carried = {"gene", "transcript", "hgvs_c", "hgvs_p"}
        state = {Zygosity.heterozygous.value: codes.HETEROZYGOUS,
                 Zygosity.homozygous.value: codes.HOMOZYGOUS}.get(str(v["zygosity"]))  # fmt: skip
        if state is not None:
            d.allelic_state.CopyFrom(_oc(state))
            carried.add("zygosity")
        at = f"interpretations[0].diagnosis.genomicInterpretations[{n}]"
        b.extend("variants", v, carried, at)


def _quantity(q: pp.Quantity, value: float, unit: tuple[str, str]) -> None:
    q.value = value
    q.unit.CopyFrom(_oc(unit))


def _measure(b: _Packet, assay: tuple[str, str], day: dt.date, value: float,
             unit: tuple[str, str]) -> tuple[pp.Measurement, str]:  # fmt: skip
    at = f"measurements[{len(b.packet.measurements)}]"
    m = b.packet.measurements.add()
    m.assay.CopyFrom(_oc(assay))
    _quantity(m.value.quantity, value, unit)
    m.time_observed.CopyFrom(_time(day))
    return m, at


def _range(m: pp.Measurement, low: Any, high: Any) -> None:
    if low is not None and high is not None:
        r = m.value.quantity.reference_range
        r.unit.CopyFrom(m.value.quantity.unit)
        r.low, r.high = low, high


def _measurements(b: _Packet, rows: dict[str, list[Row]]) -> None:
    for a in rows.get("assessments", []):
        if a.get("total") is None:
            b.extend("assessments", a, ())
            continue
        score = str(a["score"])
        assay = codes.local("score", score, f"{score} total as reported")
        _, at = _measure(b, assay, a["date"], a["total"], codes.local("unit", "score", "score"))
        b.extend("assessments", a, ("date", "score", "total"), at)
    for r in rows.get("body_measurements", []):
        first = ""
        for column, assay, unit in (("weight_kg", codes.BODY_WEIGHT, codes.KILOGRAM),
                                    ("height_cm", codes.BODY_HEIGHT, codes.CENTIMETER)):  # fmt: skip
            if r.get(column) is not None:
                _, at = _measure(b, assay, r["date"], r[column], unit)
                first = first or at
        b.extend("body_measurements", r, ("date", "weight_kg", "height_cm"), first)
    for r in rows.get("labs", []):
        analyte = units.ANALYTES.get(str(r["analyte"]))
        label = analyte.label if analyte else str(r["analyte"])
        unit = codes.local("unit", str(r["unit"]), str(r["unit"]))
        m, at = _measure(
            b, codes.local("lab", str(r["analyte"]), label), r["date"], r["value"], unit
        )
        _range(m, r.get("lln"), r.get("uln"))
        b.extend("labs", r, ("date", "analyte", "value", "unit"), at)
    for r in rows.get("biomarkers", []):
        unit = codes.local("unit", str(r["unit"]), str(r["unit"]))
        assay = codes.local("biomarker", str(r["marker"]), str(r["marker"]))
        m, at = _measure(b, assay, r["date"], r["value"], unit)
        if r.get("marker_detail"):
            m.description = str(r["marker_detail"])
        _range(m, r.get("ref_low"), r.get("ref_high"))
        b.extend("biomarkers", r, ("date", "marker", "marker_detail", "value", "unit"), at)


def _frequency(doses_per_day: float) -> tuple[str, str]:
    if doses_per_day == 2:
        return codes.TWICE_DAILY
    shown = f"{doses_per_day:g}"
    return codes.local("doses_per_day", shown, f"{shown} doses per day")


def _courses(b: _Packet, rows: dict[str, list[Row]]) -> None:
    doses: dict[Any, list[Row]] = defaultdict(list)
    for d in rows.get("doses", []):
        doses[d["course_no"]].append(d)
    for c in rows.get("courses", []):
        at = f"medicalActions[{len(b.packet.medical_actions)}]"
        action = b.packet.medical_actions.add()
        t = action.treatment
        agent_id, label, verified = codes.drug_code(Drug(c["drug"]))
        t.agent.CopyFrom(pp.OntologyClass(id=agent_id, label=label))
        if c["drug"] != Drug.other.value:
            t.route_of_administration.CopyFrom(_oc(codes.ORAL_ROUTE))
        t.drug_type = pp.PRESCRIPTION
        course_doses = sorted(doses.get(c["course_no"], []), key=lambda d: d["date"])
        for n, d in enumerate(course_doses):
            interval = t.dose_intervals.add()
            _quantity(interval.quantity, d["mg_per_dose"], codes.MILLIGRAM)
            interval.schedule_frequency.CopyFrom(_oc(_frequency(d["doses_per_day"])))
            interval.interval.start.FromJsonString(timestamp_text(d["date"]))
            end = course_doses[n + 1]["date"] if n + 1 < len(course_doses) else c.get("stop_date")
            if end is not None:
                interval.interval.end.FromJsonString(timestamp_text(end))
            b.extend(
                "doses",
                d,
                ("date", "mg_per_dose", "doses_per_day"),
                f"{at}.treatment.doseIntervals[{n}]",
            )
        responses = [r for r in rows.get("responses", [])
                     if r["course_no"] == c["course_no"] and r.get("manifestation") is None]  # fmt: skip
        if responses:
            latest = max(responses, key=lambda r: r["date"])
            action.response_to_treatment.CopyFrom(
                _oc(codes.RESPONSES[Response(latest["response"])])
            )
        for ae in rows.get("adverse_events", []):
            if ae.get("course_no") == c["course_no"]:
                action.adverse_events.add().CopyFrom(
                    _oc(codes.local("adverse_event", _slug(str(ae["term"])), str(ae["term"])))
                )
        carried = {"drug"}
        if c.get("stop_reason"):
            reason = codes.stop_reason_code(StopReason(c["stop_reason"]))
            action.treatment_termination_reason.CopyFrom(_oc(reason))
            carried.add("stop_reason")
        extra = dict(c)
        if not verified:
            extra["agent_note"] = (
                f"unverified: no checked ontology code for {label}; {agent_id} is jakreg's"
            )
        b.extend("courses", extra, carried, at)
    for h in rows.get("hsct", []):
        at = f"medicalActions[{len(b.packet.medical_actions)}]"
        action = b.packet.medical_actions.add()
        action.procedure.code.CopyFrom(_oc(codes.HSCT))
        action.procedure.performed.CopyFrom(_time(h["date"]))
        b.extend("hsct", h, ("date",), at)


def _slug(text: str) -> str:
    return "_".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())


def _latest_date(patient: Row, rows: dict[str, list[Row]]) -> dt.date:
    days = [v for r in [patient, *(r for rs in rows.values() for r in rs)]
            for v in r.values() if isinstance(v, dt.date)]  # fmt: skip
    return max(days, default=dt.date(2000, 1, 1))


def _meta(b: _Packet, rows: dict[str, list[Row]]) -> None:
    meta = b.packet.meta_data
    meta.created.FromJsonString(timestamp_text(_latest_date(b.patient, rows)))
    meta.created_by = f"jakreg {__version__}"
    meta.phenopacket_schema_version = SCHEMA_VERSION
    resources = [
        ("hp", "human phenotype ontology", "http://purl.obolibrary.org/obo/hp.owl", hpo_version(),
         "HP", "http://purl.obolibrary.org/obo/HP_"),
        ("geno", "Genotype Ontology", "http://purl.obolibrary.org/obo/geno.owl", "unversioned",
         "GENO", "http://purl.obolibrary.org/obo/GENO_"),
        ("omim", "An Online Catalog of Human Genes and Genetic Disorders", "https://www.omim.org",
         "unversioned", "OMIM", "https://www.omim.org/entry/"),
        ("hgnc", "HUGO Gene Nomenclature Committee", "https://www.genenames.org", "unversioned",
         "HGNC", "https://www.genenames.org/data/gene-symbol-report/#!/hgnc_id/"),
        ("chebi", "Chemical Entities of Biological Interest", "http://purl.obolibrary.org/obo/chebi.owl",
         "unversioned", "CHEBI", "http://purl.obolibrary.org/obo/CHEBI_"),
        ("ncit", "NCI Thesaurus", "http://purl.obolibrary.org/obo/ncit.owl", "unversioned", "NCIT",
         "http://purl.obolibrary.org/obo/NCIT_"),
        ("uo", "Units of measurement ontology", "http://purl.obolibrary.org/obo/uo.owl",
         "unversioned", "UO", "http://purl.obolibrary.org/obo/UO_"),
        ("loinc", "Logical Observation Identifiers Names and Codes", "https://loinc.org",
         "unversioned", "LOINC", "https://loinc.org/"),
        ("jakreg", "jakreg codes (docs/interop.md)", "docs/interop.md",
         __version__, "jakreg", "jakreg:"),
    ]  # fmt: skip
    for rid, name, url, version, prefix, iri in resources:
        meta.resources.add(id=rid, name=name, url=url, version=version, namespace_prefix=prefix,
                           iri_prefix=iri)  # fmt: skip
    citation = b.patient.get("citation")
    if citation:
        ref = meta.external_references.add(id=str(citation))
        if str(citation).startswith("PMID:"):
            ref.reference = f"https://pubmed.ncbi.nlm.nih.gov/{str(citation)[5:]}"
    meta.external_references.extend(b.extensions)


def phenopackets_of(tables: dict[str, Table]) -> dict[str, pp.Phenopacket]:
    """Pseudonym -> phenopacket, from workbook tables (sheet -> header, rows)."""
    by_sheet: dict[str, dict[str, list[Row]]] = {}
    for sheet, (header, rows) in tables.items():
        if sheet.startswith("derived_") or sheet in ("patients", "centres"):
            continue
        for r in rows:
            row = dict(zip(header, r, strict=True))
            by_sheet.setdefault(str(row["patient_id"]), {}).setdefault(sheet, []).append(row)
    header, rows = tables["centres"]
    centres = {str(r[header.index("centre")]): dict(zip(header, r, strict=True)) for r in rows}
    header, rows = tables["patients"]
    out: dict[str, pp.Phenopacket] = {}
    for r in rows:
        patient = dict(zip(header, r, strict=True))
        pid = str(patient["patient_id"])
        out[pid] = phenopacket(patient, by_sheet.get(pid, {}), centres.get(str(patient["centre"])))
    return out


def to_json(packet: pp.Phenopacket) -> str:
    return str(MessageToJson(packet, indent=2, sort_keys=False)) + "\n"


def write_phenopackets(tables: dict[str, Table], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for pid, packet in sorted(phenopackets_of(tables).items()):
        path = out / f"{pid}.json"
        path.write_text(to_json(packet), encoding="utf-8")
        written.append(path)
    return written


def export_phenopackets(
    out: Path, url: str | None = None, *, centre: str | None = None
) -> list[Path]:
    """One phenopacket per patient of the database (of one centre if given); no local ids."""
    from jakreg.store import db
    from jakreg.study import database_tables

    with db.open_session(url) as session:
        tables = database_tables(session, centre=centre)
    return write_phenopackets(tables, out)
