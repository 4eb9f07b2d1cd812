"""Place a STAT1 protein position (or a protein HGVS like p.Arg274Gln) in its domain."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from jakreg.rules.base import RuleError, RuleInfo, RuleResultMixin, RuleStatus, frozen_inputs


class UnparsableVariantError(RuleError):
    """A protein change that the simple position reader cannot read."""


class PositionOutOfRangeError(RuleError):
    """A residue number outside the STAT1 protein."""


@dataclass(frozen=True)
class Domain:
    name: str
    start: int
    end: int


@dataclass(frozen=True)
class DomainTable:
    info: RuleInfo
    length: int
    domains: tuple[Domain, ...]


@dataclass(frozen=True)
class DomainAssignment(RuleResultMixin):
    position: int
    domain: str | None
    region: str  # the domain name, or e.g. "between N-terminal and coiled-coil"
    info: RuleInfo
    inputs: Mapping[str, object]


@cache
def domain_table() -> DomainTable:
    """The shipped, cited STAT1 domain table (see its source and status)."""
    text = resources.files("jakreg.rules").joinpath("data/stat1_domains.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    info = RuleInfo(
        name="STAT1 domain table",
        version=str(raw["version"]),
        source=" ".join(str(raw["source"]).split()),
        status=RuleStatus(raw["status"]),
    )
    domains = tuple(Domain(d["name"], int(d["start"]), int(d["end"])) for d in raw["domains"])
    return DomainTable(info=info, length=int(raw["protein_length"]), domains=domains)


def domain_of(position: int) -> DomainAssignment:
    """The STAT1 domain of a residue; residues between domains are named as such."""
    table = domain_table()
    if isinstance(position, bool) or not isinstance(position, int):
        raise PositionOutOfRangeError(f"a residue number is a whole number, got {position!r}")
    if not 1 <= position <= table.length:
        raise PositionOutOfRangeError(
            f"STAT1 residue {position} is outside the protein (1-{table.length})"
        )
    found = next((d for d in table.domains if d.start <= position <= d.end), None)
    if found is not None:
        region = found.name
    else:
        before = [d for d in table.domains if d.end < position]
        after = [d for d in table.domains if d.start > position]
        left = before[-1].name if before else "start"
        right = after[0].name if after else "end"
        region = f"between {left} and {right}"
    return DomainAssignment(
        position=position,
        domain=found.name if found else None,
        region=region,
        info=table.info,
        inputs=frozen_inputs(position=position),
    )


_AA3 = "Ala|Arg|Asn|Asp|Cys|Gln|Glu|Gly|His|Ile|Leu|Lys|Met|Phe|Pro|Ser|Thr|Trp|Tyr|Val|Sec|Pyl|Ter"
_AA1 = "ACDEFGHIKLMNPQRSTVWYUO*"
# First residue named in a protein change: p.Arg274Gln, p.(Arg274Gln), p.R274W, p.E353K,
# p.Lys388del, p.Ala267_Asp268del (first residue taken). Syntax checking is mavehgvs's job.
_PROTEIN = re.compile(
    rf"^(?:[A-Za-z0-9_.]+:)?p\.\(?(?:(?:{_AA3})|[{re.escape(_AA1)}])(\d+)(?=[^\d]|$)"
)


def protein_position(hgvs_p: str) -> int:
    """The first residue number of a protein HGVS change, e.g. 'p.(Arg274Gln)' → 274."""
    m = _PROTEIN.match(hgvs_p.strip())
    if not m:
        raise UnparsableVariantError(
            f"cannot read a residue number from {hgvs_p!r}; expected e.g. p.Arg274Gln or p.R274W"
        )
    return int(m.group(1))


def domain_of_variant(hgvs_p: str) -> DomainAssignment:
    """The STAT1 domain of a protein variant, e.g. 'p.Arg274Gln' → coiled-coil."""
    return domain_of(protein_position(hgvs_p))
