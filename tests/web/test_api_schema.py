"""schemathesis against the OpenAPI schema: no generated request makes the server fail (5xx).

Bounded (a few examples per operation, no deadline) so the run stays well under a minute per backend.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")
from hypothesis import HealthCheck, given, settings  # noqa: E402


def test_no_server_errors(app: FastAPI, tokens: dict[str, str]) -> None:
    # schemathesis' own pytest plugin does not run under pytest 9 (yet): drive Hypothesis directly.
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    failures: list[str] = []
    statuses: list[int] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            derandomize=True,  # the same examples every run
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query or ''} "
                    f"{case.body!r:.200} -> {response.status_code}: {response.text[:300]}"
                )

        run()
    assert failures == []
    assert len(statuses) > 100
    assert {200, 404, 422} <= set(statuses)  # it reached real records, missing ones and bad input


def test_schema_lists_every_api_route(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    assert all(p.startswith("/api/v1/") for p in paths)
    assert "/api/v1/patients/{patient_id}/{sheet}/{record_id}" in paths
