"""Growth references: CDC 2000 LMS tables (2-20 years) and the z-scores computed from them. Pure."""

from __future__ import annotations

import csv
import math
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache
from importlib import resources

MIN_MONTHS, MAX_MONTHS = 24.0, 240.0


@dataclass(frozen=True)
class Lms:
    L: float
    M: float
    S: float

    def value_at(self, z: float) -> float:
        """The measurement at z (the inverse of ``z``)."""
        if self.L == 0:
            return float(self.M * math.exp(self.S * z))
        return float(self.M * (1 + self.L * self.S * z) ** (1 / self.L))

    def z(self, x: float) -> float:
        """Cole's LMS z-score."""
        if self.L == 0:
            return math.log(x / self.M) / self.S
        return float(((x / self.M) ** self.L - 1) / (self.L * self.S))

    def modified_z(self, x: float) -> float:
        """CDC's modified z-score: distance from the median in units of half the distance to z = +/-2."""
        if x >= self.M:
            return (x - self.M) / ((self.value_at(2) - self.M) / 2)
        return (x - self.M) / ((self.M - self.value_at(-2)) / 2)


@cache
def table() -> dict[tuple[str, int], tuple[list[float], list[Lms]]]:
    """(measure, sex 1 male / 2 female) -> (ages in months, LMS rows), from the shipped CSV."""
    out: dict[tuple[str, int], tuple[list[float], list[Lms]]] = {}
    path = resources.files("jakreg.quality").joinpath("data/cdc2000_lms.csv")
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            ages, rows = out.setdefault((row["measure"], int(row["sex"])), ([], []))
            ages.append(float(row["agemos"]))
            rows.append(Lms(float(row["L"]), float(row["M"]), float(row["S"])))
    return out


def lms_at(measure: str, sex: str, age_months: float) -> Lms | None:
    """LMS at an age, interpolated linearly between table ages; None outside 2-20 years or for a sex
    the reference does not have."""
    code = {"male": 1, "female": 2}.get(sex)
    if code is None or not MIN_MONTHS <= age_months <= MAX_MONTHS:
        return None
    ages, rows = table()[(measure, code)]
    i = bisect_left(ages, age_months)
    if ages[i] == age_months or i == 0:
        return rows[i]
    a0, a1 = ages[i - 1], ages[i]
    w = (age_months - a0) / (a1 - a0)
    r0, r1 = rows[i - 1], rows[i]
    return Lms(r0.L + w * (r1.L - r0.L), r0.M + w * (r1.M - r0.M), r0.S + w * (r1.S - r0.S))
