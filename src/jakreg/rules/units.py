"""Laboratory analytes, their canonical units and the conversions jakreg accepts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

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
    # unit as people write it -> factor that multiplies a value into the canonical unit
    units: dict[str, float]

    def factor(self, unit: str) -> float | None:
        return _factor(self.code, unit)


@dataclass(frozen=True)
class Converted:
    analyte: str
    value: float
    unit: str


_ENZYME = {"U/L": 1.0, "IU/L": 1.0, "µkat/L": 60.0}  # 1 µkat/L = 60 U/L
_COUNT = {
    "10^9/L": 1.0,
    "G/L": 1.0,  # "giga per litre", as French and Spanish labs write counts
    "10^3/µL": 1.0,
    "K/µL": 1.0,
    "/µL": 0.001,
    "cells/µL": 0.001,
    "/mm3": 0.001,
    "cells/mm3": 0.001,
}

# Molar conversions: bilirubin 17.1 µmol/L per mg/dL (M 584.7 g/mol); cholesterol 0.02586 mmol/L per
# mg/dL (M 386.7); triglycerides 0.01129 mmol/L per mg/dL (as triolein, M 885.7); creatinine
# 88.42 µmol/L per mg/dL (M 113.1); haemoglobin 16.11 g/L per mmol/L (per haem monomer, M 16,114).
ANALYTES: dict[str, Analyte] = {
    a.code: a
    for a in [
        Analyte("alt", "Alanine aminotransferase (ALT)", "U/L", _ENZYME),
        Analyte("ast", "Aspartate aminotransferase (AST)", "U/L", _ENZYME),
        Analyte("alp", "Alkaline phosphatase (ALP)", "U/L", _ENZYME),
        Analyte("ggt", "Gamma-glutamyl transferase (GGT)", "U/L", _ENZYME),
        Analyte("ck", "Creatine kinase (CK/CPK)", "U/L", _ENZYME),
        Analyte("bilirubin", "Total bilirubin", "µmol/L", {"µmol/L": 1.0, "mg/dL": 17.1}),
        Analyte("neutrophils", "Neutrophil count", "10^9/L", _COUNT),
        Analyte("lymphocytes", "Lymphocyte count", "10^9/L", _COUNT),
        Analyte("wbc", "White blood cell count", "10^9/L", _COUNT),
        Analyte("platelets", "Platelet count", "10^9/L", _COUNT),
        Analyte("haemoglobin", "Haemoglobin", "g/L", {"g/L": 1.0, "g/dL": 10.0, "mmol/L": 16.11}),
        Analyte("cholesterol", "Total cholesterol", "mmol/L", {"mmol/L": 1.0, "mg/dL": 0.02586}),
        Analyte("triglycerides", "Triglycerides", "mmol/L", {"mmol/L": 1.0, "mg/dL": 0.01129}),
        Analyte("creatinine", "Creatinine", "µmol/L", {"µmol/L": 1.0, "mg/dL": 88.42}),
        Analyte("crp", "C-reactive protein", "mg/L", {"mg/L": 1.0, "mg/dL": 10.0}),
        Analyte("igg", "Immunoglobulin G", "g/L", {"g/L": 1.0, "mg/dL": 0.01}),
        Analyte("iga", "Immunoglobulin A", "g/L", {"g/L": 1.0, "mg/dL": 0.01}),
        Analyte("igm", "Immunoglobulin M", "g/L", {"g/L": 1.0, "mg/dL": 0.01}),
    ]
}

_SUPERSCRIPTS = str.maketrans({"⁹": "9", "³": "3", "µ": "u", "μ": "u", "×": "x"})


@cache
def _factor(code: str, unit: str) -> float | None:
    # Cached: an import converts the same few (analyte, unit) pairs hundreds of thousands of times.
    wanted = normalise_unit(unit)
    for spelling, factor in ANALYTES[code].units.items():
        if normalise_unit(spelling) == wanted:
            return factor
    return None


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
    return list(a.units)  # canonical first, by construction


def _analyte(code: str) -> Analyte:
    try:
        return ANALYTES[code]
    except KeyError:
        known = ", ".join(sorted(ANALYTES))
        raise UnknownAnalyteError(f"unknown analyte {code!r}; use one of: {known}") from None


@cache
def conversion(analyte: str, unit: str) -> tuple[float, str]:
    """The factor that multiplies a value in `unit` into the analyte's canonical unit, and that unit.

    Raises UnknownAnalyteError / UnknownUnitError as `convert` does. Cached: bulk derivation looks
    the same few (analyte, unit) pairs up once per row.
    """
    a = _analyte(analyte)
    factor = a.factor(unit)
    if factor is None:
        raise UnknownUnitError(
            f"unit {unit!r} is not known for {analyte}; use one of: {', '.join(accepted_units(analyte))}"
        )
    return factor, a.canonical_unit


def convert(analyte: str, value: float, unit: str) -> Converted:
    """Convert a value to the analyte's canonical unit; raise UnknownUnitError for a unit not known."""
    factor, canonical_unit = conversion(analyte, unit)
    return Converted(analyte=analyte, value=value * factor, unit=canonical_unit)
