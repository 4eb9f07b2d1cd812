"""Text columns are bounded: free text at 500 characters, codes at their stored length."""

from __future__ import annotations

from pathlib import Path

from jakreg.study import check_path
from tests.studydata import TODAY, write_study


def test_free_text_and_codes_have_length_limits(tmp_path: Path) -> None:
    """Free text (500 characters) and the patient's centre code (16, as stored) are bounded."""
    from tests.studydata import edited

    sheets = edited("courses", 0, indication="a" * 501)
    sheets["patients"][0]["centre"] = "C" * 17
    checked = check_path(write_study(tmp_path / "s", sheets), today=TODAY)
    found = {(p.sheet, p.column): (p.message, p.fix) for p in checked.log.kept}
    too_long = "the text is too long"
    assert found[("courses", "indication")] == (too_long, "shorten it to at most 500 characters")
    assert found[("patients", "centre")] == (too_long, "shorten it to at most 16 characters")
