"""Row types and tables agree: every text a row accepts fits its column, so no database refuses it."""

from __future__ import annotations

import enum
import typing
from pathlib import Path
from typing import Any

from jakreg.model.introspect import base_type
from jakreg.model.sheets import SHEETS
from jakreg.store.tables import TABLE_FOR_SHEET
from jakreg.study import check_path
from tests.studydata import TODAY, edited, write_study


def _constraints(annotation: Any, found: list[Any]) -> list[Any]:
    """Constraint objects nested in an annotation (Optional[Annotated[str, ..., Field(...)]])."""
    for arg in typing.get_args(annotation):
        if hasattr(arg, "metadata") and isinstance(arg.metadata, list):
            found.extend(arg.metadata)
        elif getattr(arg, "max_length", None) or getattr(arg, "pattern", None):
            found.append(arg)
        else:
            _constraints(arg, found)
    return found


def test_every_text_field_fits_its_column() -> None:
    for spec in SHEETS:
        table = TABLE_FOR_SHEET[spec.name].__table__
        for name, info in spec.row.model_fields.items():
            if name not in table.c:
                continue
            length = getattr(table.c[name].type, "length", None)
            kind = base_type(info.annotation)
            if length is None or (isinstance(kind, type) and issubclass(kind, enum.Enum)):
                continue
            metadata = [*info.metadata, *_constraints(info.annotation, [])]
            limits = [m.max_length for m in metadata if getattr(m, "max_length", None)]
            patterned = any(getattr(m, "pattern", None) for m in metadata)
            assert limits or patterned, f"{spec.name}.{name} has no length limit (column {length})"
            if limits:
                assert max(limits) <= length, f"{spec.name}.{name}: {limits} > column {length}"


def test_control_characters_are_refused(tmp_path: Path) -> None:
    checked = check_path(
        write_study(tmp_path / "s", edited("courses", 0, indication="CMC\x07")), today=TODAY
    )
    assert str(checked.log.kept[0]) == (
        "courses.csv, sheet courses, row 2, column indication: the text holds an invisible control "
        "character (value 'CMC\\x07'). Fix: retype the cell (control characters such as NUL cannot "
        "be stored)"
    )


def test_over_long_text_is_a_validation_error(tmp_path: Path) -> None:
    checked = check_path(
        write_study(tmp_path / "s", edited("variants", 0, hgvs_c="c." + "1" * 300 + "A>G")),
        today=TODAY,
    )
    assert checked.log.kept[0].message == "the text is too long"
