"""REDCap data access group unique names, checked against exports a real REDCap server made."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from jakreg.interop.redcap_dags import centre_of_group, dag_base_name, dag_unique_names
from jakreg.interop.redcap_records import read_redcap, write_redcap
from jakreg.store import db
from jakreg.study import database_tables, import_path, init_database
from tests.interop.conftest import check_converted
from tests.studydata import BASE, TODAY, write_study

REAL = Path(__file__).parent / "data" / "real_redcap" / "redcapr"


def _real_groups() -> list[str]:
    xml = (REAL / "dag" / "project.xml").read_text(encoding="utf-8")
    return re.findall(r'<redcap:DataAccessGroups group_name="([^"]*)"', xml)


def _dag_values(path: Path) -> set[str]:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    return {r["redcap_data_access_group"] for r in rows if r["redcap_data_access_group"]}


def test_real_redcap_project_names_its_groups_by_the_rule() -> None:
    groups = _real_groups()
    assert groups == ["dag-a", "dag-b"]
    names = dag_unique_names(groups)
    assert names == {"dag-a": "daga", "dag-b": "dagb"}
    # what the REDCap server wrote in the records exports of that project (and its write twin)
    assert _dag_values(REAL / "dag" / "data.csv") == {"daga", "dagb"}
    assert _dag_values(REAL / "dag-write" / "data.csv") <= set(names.values())


@pytest.mark.parametrize(
    ("label", "unique"),
    [
        ("SYN-A", "syna"),
        ("BCN", "bcn"),
        ("Site 1 (Paris)", "site_1_paris"),
        ("Hôpital Necker-Enfants Malades", "hpital_neckerenfan"),  # non-ASCII dropped, 18 chars
        ("abcdefghijklmnopq r", "abcdefghijklmnopq"),  # cut at 18 leaves a trailing _: dropped
        ("a__", "a_"),  # REDCap drops one trailing underscore, not all
        ("&amp; A", "_a"),  # HTML entities decoded first ('&' then dropped)
    ],
)
def test_base_name_rule(label: str, unique: str) -> None:
    assert dag_base_name(label) == unique


def test_label_with_nothing_left_gets_md5_prefix() -> None:
    import hashlib

    assert dag_base_name("Ärzte") == "rzte"
    assert dag_base_name("中心") == hashlib.md5("中心".encode()).hexdigest()[:10]


def test_collisions_get_b_c_in_label_order() -> None:
    labels = ["SYN-A", "SYNA", "syn a!", "S-YNA"]
    names = dag_unique_names(labels)
    # order by trimmed label, case-insensitive: S-YNA, syn a!, SYN-A, SYNA
    assert names == {"S-YNA": "syna", "syn a!": "syn_a", "SYN-A": "synab", "SYNA": "synac"}
    labels = [f"X-{'-' * i}" for i in range(30)]  # all "x"; in label order by length
    many = dag_unique_names(labels)
    # REDCap: count 1-25 -> chr(97 + count); 26-701 -> chr(96 + count // 26) + chr(97 + count % 26)
    want = ["x"] + ["x" + chr(97 + n) for n in range(1, 26)] + ["xaa", "xab", "xac", "xad"]
    assert [many[label] for label in labels] == want


def test_import_accepts_the_unique_name_and_the_centre_code() -> None:
    centres = ["SYN-A", "SYN-B", "BCN"]
    assert centre_of_group("syna", centres) == "SYN-A"
    assert centre_of_group("SYN-A", centres) == "SYN-A"
    assert centre_of_group("syn-b", centres) == "SYN-B"
    assert centre_of_group("bcn", centres) == "BCN"
    assert centre_of_group("synx", centres) is None


def _two_centre_db(tmp_path: Path) -> str:
    sheets = {k: [dict(r) for r in v] for k, v in BASE.items()}
    sheets["centres"] = [
        {"centre": "DAG-A", "name": "Centre A", "country": "ES"},
        {"centre": "DAG-B", "name": "Centre B", "country": "ES"},
    ]
    sheets["patients"][0]["centre"] = "DAG-A"
    url = f"sqlite:///{tmp_path / 'a.db'}"
    init_database(url)
    import_path(write_study(tmp_path / "s", sheets), url, actor="test", today=TODAY)
    return url


def test_export_writes_the_name_a_real_redcap_server_uses(tmp_path: Path) -> None:
    """Centres named like the real project's groups get the very names that REDCap exported."""
    url = _two_centre_db(tmp_path)
    with db.open_session(url) as session:
        tables = dict(database_tables(session))
    folder = tmp_path / "rc"
    write_redcap(tables, folder, ["DAG-A", "DAG-B"])
    written = _dag_values(folder / "records.csv")
    assert written == {"daga"}
    assert written <= _dag_values(REAL / "dag" / "data.csv")


@pytest.mark.parametrize("value", ["daga", "DAG-A", "dag-a"])
def test_import_reads_either_form_back(tmp_path: Path, value: str) -> None:
    url = _two_centre_db(tmp_path)
    with db.open_session(url) as session:
        tables = dict(database_tables(session))
    folder = tmp_path / "rc"
    write_redcap(tables, folder, ["DAG-A", "DAG-B"])
    records = folder / "records.csv"
    text = records.read_text(encoding="utf-8").replace(",daga,", f",{value},")
    records.write_text(text, encoding="utf-8")
    checked = check_converted(folder, read_redcap, today=TODAY)
    assert checked.log.ok, [str(p) for p in checked.log.kept]
    patient = checked.rows.rows("patients")[0].row
    assert patient.centre == "DAG-A"  # type: ignore[attr-defined]
