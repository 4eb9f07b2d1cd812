"""Doses as given, turned into mg/kg/day, mg/m²/day and cumulative mg; azole co-medication flag."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from jakreg.rules.base import (
    InvalidValueError,
    RuleError,
    RuleInfo,
    RuleResultMixin,
    RuleStatus,
    frozen_inputs,
    require_finite,
)

BSA_MOSTELLER = RuleInfo(
    name="Body surface area (Mosteller)",
    version="1",
    source="Mosteller RD. N Engl J Med 1987;317:1098; formula as in clinical_rules.md §4",
    status=RuleStatus.VERIFIED,
)
DOSE_INTENSITY = RuleInfo(
    name="Dose per body size (nearest measurement)",
    version="1",
    source="jakreg convention (docs/rules.md, 'Dosing'); BSA by Mosteller",
    status=RuleStatus.CONFIGURABLE,
)
CUMULATIVE = RuleInfo(
    name="Cumulative exposure per course",
    version="1",
    source="jakreg convention (docs/rules.md, 'Cumulative exposure')",
    status=RuleStatus.CONFIGURABLE,
)
AZOLE_FLAG = RuleInfo(
    name="Azole co-medication flag",
    version="1",
    source=(
        "clinical_rules.md §4 (ruxolitinib US label: strong CYP3A4 inhibitors raise exposure); "
        "the list of azoles is jakreg's and configurable"
    ),
    status=RuleStatus.CONFIGURABLE,
)

# Systemic azole antifungals by generic name. Whether each is a strong or moderate CYP3A4 inhibitor
# is not encoded: the flag says "look at the label", never what to do with the dose.
DEFAULT_AZOLES: tuple[str, ...] = (
    "itraconazole",
    "fluconazole",
    "voriconazole",
    "posaconazole",
    "isavuconazole",
    "isavuconazonium",
    "ketoconazole",
)
AZOLE_NOTE = (
    "azole antifungal given during JAK-inhibitor therapy: labels state that strong CYP3A4 "
    "inhibitors raise JAK-inhibitor exposure (clinical_rules.md §4); flag only, no dose advice"
)


class InvalidDatesError(RuleError):
    """Dates that cannot describe a course (a stop before its start, records out of order)."""


@dataclass(frozen=True)
class BodyMeasurement:
    """A dated weight and/or height."""

    on: date
    weight_kg: float | None = None
    height_cm: float | None = None


@dataclass(frozen=True)
class DoseRecord:
    """A dose as given from `on` until the next record: mg per dose × doses per day."""

    on: date
    mg_per_dose: float
    doses_per_day: float
    weight_kg: float | None = None
    height_cm: float | None = None


@dataclass(frozen=True)
class MeasurementRule:
    """Which body measurement a dose uses: the nearest within `window_days` of the dose date.

    A weight or height written on the dose record itself is used first. On a tie the earlier
    measurement wins, because that is what the prescriber could have seen.
    """

    window_days: int = 90


@dataclass(frozen=True)
class BodySize(RuleResultMixin):
    value: float
    info: RuleInfo
    inputs: Mapping[str, object]


@dataclass(frozen=True)
class DoseIntensity(RuleResultMixin):
    """mg/day, mg/kg/day and mg/m²/day of one dose record; None with a reason when not derivable."""

    on: date
    mg_per_day: float
    mg_per_kg_per_day: float | None
    mg_per_m2_per_day: float | None
    weight_kg: float | None
    weight_from: str
    height_cm: float | None
    height_from: str
    bsa_m2: float | None
    reason: str
    info: RuleInfo
    inputs: Mapping[str, object]

    @property
    def flagged(self) -> bool:
        """True when mg/kg/day could not be derived (no usable weight)."""
        return self.mg_per_kg_per_day is None


def bsa_mosteller(height_cm: float, weight_kg: float) -> float:
    """Body surface area in m²: sqrt(height cm × weight kg / 3600)."""
    h = require_finite("height (cm)", height_cm, positive=True)
    w = require_finite("weight (kg)", weight_kg, positive=True)
    return math.sqrt(h * w / 3600.0)


def body_surface_area(height_cm: float, weight_kg: float) -> BodySize:
    """Mosteller BSA as a result object carrying its rule."""
    return BodySize(
        value=bsa_mosteller(height_cm, weight_kg),
        info=BSA_MOSTELLER,
        inputs=frozen_inputs(height_cm=height_cm, weight_kg=weight_kg),
    )


def _nearest(
    on: date,
    measurements: Iterable[BodyMeasurement],
    attr: str,
    window_days: int,
) -> tuple[float | None, str]:
    best: tuple[int, date, float] | None = None
    for m in measurements:
        v = getattr(m, attr)
        if v is None or not math.isfinite(v) or v <= 0:
            continue
        gap = abs((m.on - on).days)
        if gap > window_days:
            continue
        key = (gap, m.on, v)
        if best is None or key[:2] < best[:2]:
            best = key
    if best is None:
        return None, f"no {attr.split('_')[0]} within {window_days} days of the dose"
    gap, when, v = best
    rel = "same day" if gap == 0 else f"{gap} days {'before' if when < on else 'after'}"
    return v, f"measurement of {when.isoformat()} ({rel})"


def _on_record(v: float | None) -> bool:
    return v is not None and math.isfinite(v) and v > 0


def dose_intensity(
    dose: DoseRecord,
    measurements: Sequence[BodyMeasurement] = (),
    rule: MeasurementRule | None = None,
) -> DoseIntensity:
    """Derive mg/kg/day and mg/m²/day; a dose without a usable weight is flagged, never guessed."""
    rule = rule or MeasurementRule()
    mg = require_finite("mg per dose", dose.mg_per_dose)
    n = require_finite("doses per day", dose.doses_per_day)
    if mg < 0 or n < 0:
        raise InvalidValueError("mg per dose and doses per day cannot be negative")
    if rule.window_days < 0:
        raise InvalidValueError("the measurement window cannot be negative")
    mg_day = mg * n
    if _on_record(dose.weight_kg):
        weight, weight_from = dose.weight_kg, "dose record"
    else:
        weight, weight_from = _nearest(dose.on, measurements, "weight_kg", rule.window_days)
    if _on_record(dose.height_cm):
        height, height_from = dose.height_cm, "dose record"
    else:
        height, height_from = _nearest(dose.on, measurements, "height_cm", rule.window_days)
    per_kg = None if weight is None else mg_day / weight
    bsa = None if weight is None or height is None else bsa_mosteller(height, weight)
    per_m2 = None if bsa is None else mg_day / bsa
    reasons = [f"{mg:g} mg × {n:g}/day = {mg_day:g} mg/day"]
    reasons.append(
        f"weight {weight:g} kg from {weight_from}"
        if weight is not None
        else f"mg/kg/day not derived: {weight_from}"
    )
    if height is not None:
        reasons.append(f"height {height:g} cm from {height_from}")
    elif weight is not None:
        reasons.append(f"mg/m²/day not derived: {height_from}")
    return DoseIntensity(
        on=dose.on,
        mg_per_day=mg_day,
        mg_per_kg_per_day=per_kg,
        mg_per_m2_per_day=per_m2,
        weight_kg=weight,
        weight_from=weight_from,
        height_cm=height,
        height_from=height_from,
        bsa_m2=bsa,
        reason="; ".join(reasons),
        info=DOSE_INTENSITY,
        inputs=frozen_inputs(
            dose=dose, measurements=tuple(measurements), window_days=rule.window_days
        ),
    )


@dataclass(frozen=True)
class ExposureRule:
    """Whether the stop date itself counts as a day on drug (default: no, as for time on drug)."""

    count_stop_day: bool = False


@dataclass(frozen=True)
class CumulativeExposure(RuleResultMixin):
    """Total mg over a course; None when some days of the course have no dose record."""

    total_mg: float | None
    covered_mg: float
    days: int
    uncovered_days: int
    end: date
    reason: str
    info: RuleInfo
    inputs: Mapping[str, object]


def cumulative_exposure(
    doses: Sequence[DoseRecord],
    *,
    start: date,
    stop: date | None,
    cutoff: date,
    rule: ExposureRule | None = None,
) -> CumulativeExposure:
    """Integrate the daily dose over time: each record holds until the next, the last until the end.

    The end is the stop date or, for a course still running, the data cut-off (whichever is
    earlier). Days before the first dose record have no known dose: the total is then None.
    """
    rule = rule or ExposureRule()
    if stop is not None and stop < start:
        raise InvalidDatesError(f"stop {stop.isoformat()} is before start {start.isoformat()}")
    if cutoff < start:
        raise InvalidDatesError(
            f"data cut-off {cutoff.isoformat()} is before start {start.isoformat()}"
        )
    end = cutoff if stop is None or stop > cutoff else stop
    # The end day is excluded unless configured, so by default days = time on drug in days.
    end_excl = end.toordinal() + (1 if rule.count_stop_day else 0)
    days = end_excl - start.toordinal()
    ordered = sorted(doses, key=lambda d: d.on)
    for d in ordered:
        require_finite("mg per dose", d.mg_per_dose)
        require_finite("doses per day", d.doses_per_day)
        if d.mg_per_dose < 0 or d.doses_per_day < 0:
            raise InvalidValueError("mg per dose and doses per day cannot be negative")
    covered = 0.0
    covered_days = 0
    for i, d in enumerate(ordered):
        seg_start = max(d.on.toordinal(), start.toordinal())
        seg_end = ordered[i + 1].on.toordinal() if i + 1 < len(ordered) else end_excl
        seg_end = min(seg_end, end_excl)
        if seg_end > seg_start:
            covered += d.mg_per_dose * d.doses_per_day * (seg_end - seg_start)
            covered_days += seg_end - seg_start
    uncovered = max(days - covered_days, 0)
    if uncovered:
        total = None
        reason = f"{uncovered} of {days} days have no dose record before them: total not derived"
    else:
        total = covered
        reason = f"{covered:g} mg over {days} days"
    return CumulativeExposure(
        total_mg=total,
        covered_mg=covered,
        days=days,
        uncovered_days=uncovered,
        end=end,
        reason=reason,
        info=CUMULATIVE,
        inputs=frozen_inputs(
            doses=tuple(doses),
            start=start,
            stop=stop,
            cutoff=cutoff,
            count_stop_day=rule.count_stop_day,
        ),
    )


@dataclass(frozen=True)
class AzoleFlag(RuleResultMixin):
    """Whether any co-medication is an azole antifungal in the configured list."""

    flagged: bool
    matched: tuple[str, ...]
    note: str
    info: RuleInfo
    inputs: Mapping[str, object]


def azole_comedication(
    therapy_names: Iterable[str], azoles: Sequence[str] = DEFAULT_AZOLES
) -> AzoleFlag:
    """Flag azole co-medication by whole-word, case-insensitive match of the generic name."""
    names = tuple(therapy_names)
    patterns = [(a, re.compile(rf"\b{re.escape(a.lower())}\b")) for a in azoles]
    matched = tuple(sorted({a for n in names for a, p in patterns if p.search(n.lower())}))
    return AzoleFlag(
        flagged=bool(matched),
        matched=matched,
        note=AZOLE_NOTE if matched else "no azole antifungal among the co-medications",
        info=AZOLE_FLAG,
        inputs=frozen_inputs(therapy_names=names, azoles=tuple(azoles)),
    )
