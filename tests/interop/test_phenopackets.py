"""Phenopackets: every exported file parses with the official package, jakreg -> phenopackets -> jakreg
gives the same data except the fields listed below, and the 20 real SOCS1 files import with their PMIDs."""

from __future__ import annotations

import json
from pathlib import Path

import phenopackets as pp
from google.protobuf.json_format import Parse

from jakreg.interop.phenopackets_export import write_phenopackets
from jakreg.interop.phenopackets_import import read_phenopackets
from jakreg.store import db
from jakreg.study import database_tables, example_path, import_path, init_database
from tests.interop.conftest import check_converted, import_converted
from tests.studydata import TODAY, write_study

REAL = Path("/work/shared/reference/data/phenopackets/SOCS1")
# What a phenopacket export never carries: the centre's own reference stays at the centre.
NOT_CARRIED = {("patients", "local_id")}


def _tables(url: str) -> dict[str, tuple[list[str], list[list[object]]]]:
    with db.open_session(url) as session:
        return dict(database_tables(session, include_local_ids=True))


def _without(tables: dict[str, tuple[list[str], list[list[object]]]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for sheet, (header, rows) in tables.items():
        keep = [i for i, c in enumerate(header) if (sheet, c) not in NOT_CARRIED]
        out[sheet] = [[r[i] for i in keep] for r in rows]
    return out


def _round_trip(study: Path, tmp_path: Path) -> tuple[dict, dict]:  # type: ignore[type-arg]
    first = f"sqlite:///{tmp_path / 'a.db'}"
    init_database(first)
    import_path(study, first, actor="test", today=TODAY)
    with db.open_session(first) as session:
        files = write_phenopackets(database_tables(session), tmp_path / "pp")
    for f in files:
        Parse(f.read_text(), pp.Phenopacket())
    second = f"sqlite:///{tmp_path / 'b.db'}"
    init_database(second)
    import_converted(tmp_path / "pp", read_phenopackets, second, today=TODAY)
    return _tables(first), _tables(second)


def test_example_round_trips_through_phenopackets(tmp_path: Path) -> None:
    before, after = _round_trip(example_path(), tmp_path)
    assert after == before  # the example has no local ids


def test_only_the_listed_fields_are_lost(tmp_path: Path) -> None:
    before, after = _round_trip(write_study(tmp_path / "s"), tmp_path)
    assert _without(after) == _without(before)
    header = before["patients"][0]
    column = header.index("local_id")
    assert (before["patients"][1][0][column], after["patients"][1][0][column]) == ("H-7", None)


def test_course_is_a_medical_action_with_cited_codes(tmp_path: Path) -> None:
    _round_trip(example_path(), tmp_path)
    data = json.loads((tmp_path / "pp" / "S09.json").read_text())
    action = data["medicalActions"][0]
    assert action["treatment"]["agent"] == {"id": "CHEBI:66919", "label": "ruxolitinib"}
    assert action["treatment"]["doseIntervals"][0]["quantity"]["unit"]["id"] == "UO:0000022"
    assert action["adverseEvents"][0]["label"] == "Alanine aminotransferase increased"
    grades = [json.loads(r["description"]) for r in data["metaData"]["externalReferences"]
              if r["id"] == "jakreg:adverse_events"]  # fmt: skip
    assert grades[0]["grade"] == 3
    assert grades[0]["attribution"] == "probable"
    variant = data["interpretations"][0]["diagnosis"]["genomicInterpretations"][0]
    assert (
        variant["variantInterpretation"]["variationDescriptor"]["allelicState"]["id"]
        == "GENO:0000135"
    )


def test_the_real_socs1_phenopackets_import_with_their_pmids(tmp_path: Path) -> None:
    files = sorted(REAL.glob("*.json"))
    assert len(files) == 20
    checked = check_converted(REAL, read_phenopackets, today=TODAY)
    assert checked.log.ok, [str(p) for p in checked.log.kept if p.severity.value == "error"]
    patients = [vr.row for vr in checked.rows.rows("patients")]
    assert len(patients) == 20
    pmids = {f.name.split("_")[1] for f in files}
    assert {p.citation for p in patients} == {f"PMID:{n}" for n in pmids}  # type: ignore[attr-defined]
    assert {p.source.value for p in patients} == {"literature"}  # type: ignore[attr-defined]
    assert any(p.column and p.column.endswith("vcfRecord") for p in checked.log.kept)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    init_database(url)
    summary = import_converted(REAL, read_phenopackets, url, today=TODAY)
    assert summary.sheets["patients"].created == 20


def test_a_broken_file_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"id": "x", "subject": {"sex": "NOT_A_SEX"}}')
    checked = check_converted(tmp_path, read_phenopackets, today=TODAY)
    assert not checked.log.ok
    assert checked.log.kept[0].file == "bad.json"
