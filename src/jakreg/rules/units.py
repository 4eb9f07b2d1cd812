"""Laboratory analytes, their canonical units and the conversions jakreg accepts."""

from __future__ import annotations

import re
from dataclasses import dataclass

from jakreg.errors import JakregError


class UnknownAnalyteError(JakregError):
    """The analyte code is not in jakreg's catalogue."""


class UnknownUnitError(JakregError):
    """The unit is not one jakreg can convert for this analyte."""


@dataclass(frozen=True)
class Analyte:
    code: str
    label: str
    canonical_unit: str
    # normalised unit spelling -> factor that multiplies a value into the canonical unit
    factors: dict[str, float]


@dataclass(frozen=True)
class Converted:
    analyte: str
    value: float
    unit: str


_ENZYME = {"u/l": 1.0, "iu/l": 1.0, "ukat/l": 60.0}  # 1 µkat/L = 60 U/L
_COUNT = {
    "10^9/l": 1.0,
    "g/l": 1.0,  # "giga per litre", as French and Spanish labs write counts
    "10^3/ul": 1.0,
    "k/ul": 1.0,
    "/ul": 0.001,
    "cells/ul": 0.001,
    "/mm3": 0.001,
    "cells/mm3": 0.001,
}

# Molar conversions: bilirubin 17.1 µmol/L per mg/dL (M 584.7 g/mol); cholesterol 0.02586 mmol/L per
# mg/dL (M 386.7); triglycerides 0.01129 mmol/L per mg/dL (as triolein, M 885.7); creatinine
# 88.42 µmol/L per mg/dL (M 113.1); haemoglobin 16.11 g/L per mmol/L (monomer, M 16,114 g/mol... /1000).
ANALYTES: dict[str, Analyte] = {
    a.code: a
    for a in [
        Analyte("alt", "Alanine aminotransferase (ALT)", "U/L", _ENZYME),
        Analyte("ast", "Aspartate aminotransferase (AST)", "U/L", _ENZYME),
        Analyte("alp", "Alkaline phosphatase (ALP)", "U/L", _ENZYME),
        Analyte("ggt", "Gamma-glutamyl transferase (GGT)", "U/L", _ENZYME),
        Analyte("ck", "Creatine kinase (CK/CPK)", "U/L", _ENZYME),
        Analyte("bilirubin", "Total bilirubin", "µmol/L", {"umol/l": 1.0, "mg/dl": 17.1}),
        Analyte("neutrophils", "Neutrophil count", "10^9/L", _COUNT),
        Analyte("lymphocytes", "Lymphocyte count", "10^9/L", _COUNT),
        Analyte("wbc", "White blood cell count", "10^9/L", _COUNT),
        Analyte("platelets", "Platelet count", "10^9/L", _COUNT),
        Analyte("haemoglobin", "Haemoglobin", "g/L", {"g/l": 1.0, "g/dl": 10.0, "mmol/l": 16.11}),
        Analyte("cholesterol", "Total cholesterol", "mmol/L", {"mmol/l": 1.0, "mg/dl": 0.02586}),
        Analyte(
            "triglycerides", "Triglycerides", "mmol/L", {"mmol/l": 1.0, "mg/dl": 0.01129}
        ),
        Analyte("creatinine", "Creatinine", "µmol/L", {"umol/l": 1.0, "mg/dl": 88.42}),
        Analyte("crp", "C-reactive protein", "mg/L", {"mg/l": 1.0, "mg/dl": 10.0}),
        Analyte("igg", "Immunoglobulin G", "g/L", {"g/l": 1.0, "mg/dl": 0.01}),
        Analyte("iga", "Immunoglobulin A", "g/L", {"g/l": 1.0, "mg/dl": 0.01}),
        Analyte("igm", "Immunoglobulin M", "g/L", {"g/l": 1.0, "mg/dl": 0.01}),
    ]
}

_SUPERSCRIPTS = str.maketrans({"⁹": "9", "³": "3", "µ": "u", "μ": "u", "×": "x"})


def normalise_unit(unit: str) -> str:
    """Spell a unit one way: lower case, no spaces, 'u' for micro, '^' for powers, no leading 'x'."""
    u = unit.strip().translate(_SUPERSCRIPTS).lower().replace(" ", "")
    u = re.sub(r"^x?10\*?\*?\^?(\d)", r"10^\1", u)
    u = u.replace("/microl", "/ul").replace("/mcl", "/ul")
    if u in {"10^9/l", "10e9/l"}:
        return "10^9/l"
    if u in {"10^3/ul", "10e3/ul"}:
        return "10^3/ul"
    return u


def accepted_units(analyte: str) -> list[str]:
    """The unit spellings accepted for an analyte, canonical first (for error messages and docs)."""
    a = _analyte(analyte)
    others = sorted(k for k in a.factors if normalise_unit(a.canonical_unit) != k)
    return [a.canonical_unit, *others]


def _analyte(code: str) -> Analyte:
    try:
        return ANALYTES[code]
    except KeyError:
        known = ", ".join(sorted(ANALYTES))
        raise UnknownAnalyteError(f"unknown analyte {code!r}; use one of: {known}") from None


def convert(analyte: str, value: float, unit: str) -> Converted:
    """Convert a value to the analyte's canonical unit; raise UnknownUnitError for a unit not known."""
    a = _analyte(analyte)
    factor = a.factors.get(normalise_unit(unit))
    if factor is None:
        raise UnknownUnitError(
            f"unit {unit!r} is not known for {analyte}; use one of: {', '.join(accepted_units(analyte))}"
        )
    return Converted(analyte=a.code, value=value * factor, unit=a.canonical_unit)
