from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from vantage6.algorithm.tools.mock_client import MockAlgorithmClient

DATA = Path(__file__).parent / "data"
NODES = [DATA / f"node{i}" / "jakreg-federated.csv" for i in (1, 2, 3)]


def mock(paths: list[Path | pd.DataFrame]) -> MockAlgorithmClient:
    sets = [
        [{"database": p} if isinstance(p, pd.DataFrame) else {"database": str(p), "db_type": "csv"}]
        for p in paths
    ]
    return MockAlgorithmClient(datasets=sets, module="jakreg_federated")


def run_central(client: MockAlgorithmClient, **kwargs: Any) -> dict[str, Any]:
    task = client.task.create(
        input_={"method": "central", "kwargs": kwargs}, organizations=[client.organization_id]
    )
    return client.wait_for_results(task_id=task["id"])[0]


@pytest.fixture
def pooled() -> dict[str, Any]:
    return json.loads((DATA / "pooled.json").read_text())


@pytest.fixture
def frames() -> list[pd.DataFrame]:
    return [pd.read_csv(p) for p in NODES]
