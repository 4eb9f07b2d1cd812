"""Score definition files: the shipped provisional IDDA structure, the checker and the evaluator."""

from __future__ import annotations

from pathlib import Path

import pytest

from jakreg.rules import idda
from jakreg.rules.base import RuleStatus

SHIPPED = Path(idda.__file__).parent / "data" / "idda_provisional.yaml"


def full_values(**overrides: float | None) -> dict[str, float | None]:
    d = idda.load_definition("idda_provisional")
    values: dict[str, float | None] = dict.fromkeys(d.item_ids, 0.0)
    values["performance_index"] = 100.0
    values.update(overrides)
    return values


def test_shipped_definition_is_valid_and_provisional() -> None:
    assert idda.check_definition(SHIPPED) == []
    [d] = [x for x in idda.list_definitions() if x.name == "idda_provisional"]
    assert d.status is RuleStatus.PROVISIONAL
    assert len(d.items) == 19  # 12 organ items, P, D, Q, 4 further items
    assert d.formula() == (
        "sum(organ_1 + organ_2 + organ_3 + organ_4 + organ_5 + organ_6 + organ_7 + organ_8 + "
        "organ_9 + organ_10 + organ_11 + organ_12) × 150 / performance_index"
        " + min(0.1 × hospital_days, 4) + min(0.8 × q_percentage, 8)"
        " + sum(further_1 + further_2 + further_3 + further_4)"
    )


def test_formula_structure() -> None:
    d = idda.load_definition("idda_provisional")
    v = full_values(organ_1=2, organ_5=1, performance_index=60, hospital_days=12, q_percentage=5)
    v["further_2"] = 1.5
    r = idda.evaluate(d, v)
    # 3 × 150 / 60 + min(1.2, 4) + min(4, 8) + 1.5
    assert r.total == pytest.approx(7.5 + 1.2 + 4.0 + 1.5)
    assert r.state == "complete"
    assert r.label.startswith("IDDA-like total (provisional structure, unverified) 0.1-provisional")


def test_caps() -> None:
    d = idda.load_definition("idda_provisional")
    r = idda.evaluate(d, full_values(hospital_days=400, q_percentage=100))
    assert r.term_values["hospital_term"] == 4
    assert r.term_values["q_term"] == 8


def test_missing_item_is_never_zero() -> None:
    d = idda.load_definition("idda_provisional")
    r = idda.evaluate(d, full_values(organ_3=None))
    assert r.total is None
    assert r.reason == "incomplete (18 of 19 items)"
    assert r.missing == ("organ_3",)


def test_invalid_and_unknown_items() -> None:
    d = idda.load_definition("idda_provisional")
    r = idda.evaluate(d, full_values(performance_index=0))
    assert r.state == "invalid"
    assert r.problems == ("performance_index = 0 is below the minimum 1",)
    with pytest.raises(idda.UnknownItemError):
        idda.evaluate(d, {"organ_13": 1})


def test_reported_total_is_labelled() -> None:
    t = idda.reported_total(15.99, definition_name="IDDA2.1")
    assert t.label == "15.99 (IDDA2.1, version not stated; as reported)"
    assert t.info.name == "IDDA2.1 total as reported"


GOOD = """
format: jakreg-score-definition/1
name: tiny
version: 1.0
source: test
status: configurable
items:
  - {id: a, levels: [0, 1, 2]}
  - {id: p, range: {min: 10, max: 100}}
terms:
  - {id: t1, sum: [a, {item: a, weight: 2}], multiply: 100, divide_by: p, cap: 9}
total: [t1]
"""


def test_custom_definition_with_levels_and_weights(tmp_path: Path) -> None:
    f = tmp_path / "tiny.yaml"
    f.write_text(GOOD)
    assert idda.check_definition(f) == []
    d = idda.load_definition(f)
    assert d.version == "1.0"
    assert idda.evaluate(d, {"a": 1, "p": 50}).total == pytest.approx(6.0)
    assert idda.evaluate(d, {"a": 2, "p": 10}).total == 9  # capped
    bad = idda.evaluate(d, {"a": 1.5, "p": 50})
    assert bad.problems == ("a = 1.5 is not one of the allowed levels (0, 1, 2)",)


def test_checker_reports_every_problem_with_location(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(
        """format: jakreg-score-definition/1
name: Bad Name
version: "1"
source: test
status: official
items:
  - {id: a}
  - {id: a}
  - {id: p, range: {min: 0}}
  - {id: unused}
terms:
  - {id: t1, sum: [a, b], divide_by: p}
total: [t1, t2]
"""
    )
    problems = [str(p) for p in idda.check_definition(f)]
    assert problems == [
        f"{f}:2: name: use lower-case letters, digits and _ (it is how the file is loaded)",
        f"{f}:5: status: must be one of: verified, provisional, configurable",
        f"{f}:8: items[1].id: duplicate item id 'a'",
        f"{f}:12: terms[0].sum[1]: unknown item 'b'",
        f"{f}:12: terms[0].divide_by: item 'p' can be 0; give it levels or a range minimum above 0",
        f"{f}:13: total[1]: unknown term 't2'",
        f"{f}:10: items[3]: item 'unused' is not used by any term",
    ]
    with pytest.raises(idda.DefinitionError):
        idda.load_definition(f)


def test_checker_on_unreadable_or_broken_yaml(tmp_path: Path) -> None:
    f = tmp_path / "broken.yaml"
    f.write_text("items: [\n")
    [p] = idda.check_definition(f)
    assert p.location.startswith(str(f))
    assert "not valid YAML/JSON" in p.message
    [missing] = idda.check_definition(tmp_path / "nope.yaml")
    assert missing.message.startswith("cannot read the file")


def test_load_unknown_name() -> None:
    with pytest.raises(idda.DefinitionError, match="shipped: idda_provisional"):
        idda.load_definition("idda_official")
