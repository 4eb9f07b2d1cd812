"""Small protocol files for the tests (their schedules are computed by hand in the tests)."""

from __future__ import annotations

ITEMS = """
items:
  idda: {label: IDDA, kind: assessment, source: test}
  cbc: {label: CBC, kind: lab, codes: [neutrophils, lymphocytes, haemoglobin, platelets], source: test}
  liver: {label: ALT and AST, kind: lab, codes: [alt, ast], source: test}
"""

V1 = (
    """name: test-protocol
version: "1"
effective_date: 2000-01-01
"""
    + ITEMS
    + """visits:
  - {id: base, label: Baseline, day: 0, before: 30, after: 0, items: [idda, cbc]}
  - {id: w2, label: Week 2, day: 14, before: 3, after: 3, items: [cbc]}
  - {id: m1, label: Month 1, day: 28, before: 3, after: 3, items: [idda]}
  - {id: m3, label: Month 3, day: 90, before: 5, after: 5, items: [idda]}
  - {id: rep, label: Repeat, day: 60, every_days: 30, before: 5, after: 5, items: [idda]}
  - {id: eot, label: End, anchor: stop, day: 0, before: 0, after: 10, items: [idda]}
"""
)

# amendment: from 2021-03-20 the month-1 visit also requires ALT and AST
V2 = (
    V1.replace('version: "1"', 'version: "2"')
    .replace("effective_date: 2000-01-01", "effective_date: 2021-03-20")
    .replace(
        "day: 28, before: 3, after: 3, items: [idda]",
        "day: 28, before: 3, after: 3, items: [idda, liver]",
    )
)
