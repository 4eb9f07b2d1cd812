"""The data quality rules as data: id, version, what they check, their source, and whether they are provisional.

A rule's version changes whenever what it flags changes, so a finding names the exact rule that raised it.
Thresholds that do not come from a STAT1 GOF protocol are labelled provisional.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    version: int
    title: str
    source: str
    provisional: bool
    fix: str

    @property
    def label(self) -> str:
        return f"{self.id} v{self.version}"


CDC_2000 = (
    "CDC 2000 growth charts, LMS parameters wtage.csv and statage.csv (Kuczmarski RJ et al., Vital Health "
    "Stat 11(246), 2002; https://www.cdc.gov/growthcharts/cdc-data-files.htm), ages 2-20 years"
)
CDC_BIV = (
    "CDC, 'Modified z-scores in the CDC growth charts' / SAS program for the 2000 CDC growth charts: "
    "biologically implausible values are modified z below -5 or above 8 (weight-for-age) and below -5 or "
    "above 4 (height-for-age)"
)

RULES: tuple[Rule, ...] = (
    Rule("required_missing", 1, "A value the registry needs is blank",
         "jakreg registry convention (required columns per sheet, configurable)", True,
         "fill in the value, or record why it is not known"),
    Rule("lab_negative", 1, "A laboratory value below zero",
         "physical impossibility: concentrations, activities and counts cannot be negative", False,
         "correct the value (sign or decimal point?)"),
    Rule("body_impossible", 1, "A weight or height of zero or below",
         "physical impossibility", False, "correct the measurement"),
    Rule("weight_for_age", 1, "Weight implausible for age and sex", f"{CDC_2000}; {CDC_BIV}", True,
         "check the weight, its unit (kg) and the date of birth"),
    Rule("height_for_age", 1, "Height implausible for age and sex", f"{CDC_2000}; {CDC_BIV}", True,
         "check the height, its unit (cm) and the date of birth"),
    Rule("dose_before_course", 1, "A dose dated before its course starts", "chronology", False,
         "correct the dose date or the course start date"),
    Rule("stop_before_start", 1, "A course stops before it starts", "chronology", False,
         "correct the start or stop date"),
    Rule("response_before_course", 1, "A response dated before its course starts", "chronology", False,
         "correct the response date or the course start date"),
    Rule("record_after_death", 1, "A record dated after the patient's death (last follow-up)",
         "chronology: for a deceased patient last_follow_up is the date of death", False,
         "correct the record date or the patient's last follow-up / vital status"),
    Rule("weight_disagrees", 1, "Two different weights on the same day (dose sheet and body measurements)",
         "duplicate measurement", False, "keep the weight that was measured, correct the other"),
    Rule("unit_unusual", 1, "A lab unit other than the one this centre usually reports for the analyte",
         "jakreg registry convention (the centre's most frequent unit for the analyte)", True,
         "check that the value and unit were copied together"),
    Rule("weight_change", 1, "Weight changed by more than 20 % between consecutive visits",
         "jakreg registry convention (issue 13), not a clinical threshold", True,
         "check both weights and their dates"),
)  # fmt: skip

BY_ID: dict[str, Rule] = {r.id: r for r in RULES}

# Columns each sheet should have filled in; a centre's data manager may pass others to ``run``.
REQUIRED: dict[str, tuple[str, ...]] = {
    "patients": ("birth_year_month", "last_follow_up"),
    "doses": ("weight_kg",),
    "courses": ("indication",),
}

WEIGHT_CHANGE_LIMIT = 0.20
BIV_LIMITS: dict[str, tuple[float, float]] = {"weight_kg": (-5.0, 8.0), "height_cm": (-5.0, 4.0)}
