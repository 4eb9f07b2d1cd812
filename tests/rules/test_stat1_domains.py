"""STAT1 residue → domain, and reading the residue from a protein HGVS."""

from __future__ import annotations

import pytest

from jakreg.rules.base import RuleStatus
from jakreg.rules.stat1_domains import (
    PositionOutOfRangeError,
    UnparsableVariantError,
    domain_of,
    domain_of_variant,
    domain_table,
    protein_position,
)


@pytest.mark.parametrize(
    ("hgvs", "position"),
    [
        ("p.Arg274Gln", 274),
        ("p.(Arg274Gln)", 274),
        ("p.R274W", 274),
        ("p.E353K", 353),
        ("NP_009330.1:p.Thr385Met", 385),
        ("p.Ala267_Asp268del", 267),
        (" p.Lys388Glu ", 388),
    ],
)
def test_protein_position(hgvs: str, position: int) -> None:
    assert protein_position(hgvs) == position


@pytest.mark.parametrize("bad", ["c.820C>T", "R274W", "p.274W", "p.?", ""])
def test_unparsable(bad: str) -> None:
    with pytest.raises(UnparsableVariantError):
        protein_position(bad)


@pytest.mark.parametrize(
    ("position", "region"),
    [
        (1, "N-terminal"),
        (123, "N-terminal"),
        (124, "between N-terminal and coiled-coil"),
        (136, "coiled-coil"),
        (317, "coiled-coil"),
        (318, "DNA-binding"),
        (488, "DNA-binding"),
        (489, "linker"),
        (576, "linker"),
        (577, "SH2"),
        (683, "SH2"),
        (684, "transactivation"),
        (750, "transactivation"),
    ],
)
def test_domain_boundaries(position: int, region: str) -> None:
    assert domain_of(position).region == region


def test_table_is_cited_and_provisional() -> None:
    t = domain_table()
    assert t.info.status is RuleStatus.PROVISIONAL
    assert "Mao X et al." in t.info.source
    assert domain_of_variant("p.Arg274Gln").domain == "coiled-coil"
    with pytest.raises(PositionOutOfRangeError):
        domain_of(751)
