"""jakreg's federated analysis as a vantage6 algorithm (reads the jakreg federated extract).

vantage6 calls the functions below by name; this package never imports jakreg."""

from jakreg_federated.central import central
from jakreg_federated.partial import (
    partial_adverse_events,
    partial_counts,
    partial_idda,
    partial_km,
)

__all__ = ["central", "partial_adverse_events", "partial_counts", "partial_idda", "partial_km"]
