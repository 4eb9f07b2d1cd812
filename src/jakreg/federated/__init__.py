"""The federated extract: the pseudonymised, versioned table a vantage6 node reads (docs/federated.md)."""

from jakreg.federated.extract import COLUMNS, SCHEMA_VERSION, extract_rows
from jakreg.federated.pooled import pooled_numbers, write_pooled
from jakreg.federated.write import write_federated

__all__ = [
    "COLUMNS",
    "SCHEMA_VERSION",
    "extract_rows",
    "pooled_numbers",
    "write_federated",
    "write_pooled",
]
