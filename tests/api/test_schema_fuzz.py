"""Schema fuzzing with schemathesis over every operation of the OpenAPI document, on
PostgreSQL (which refuses what SQLite lets through): bounded examples and a fixed seed, with the
not-a-server-error and response-schema checks."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance

from headshot.api.app import create_app
from headshot.services.container import Services
from tests.api.conftest import sign_up

EXAMPLES = 8
# The event stream never ends by design; it is exercised by tests/api/test_events.py.
EXCLUDED = r"/events$"


@pytest.fixture
def database_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def bearer(services: Services) -> dict[str, str]:
    with TestClient(create_app(services), base_url="https://testserver") as client:
        return sign_up(client, "fuzz@example.com")


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # a fixed seed: the same cases on every run
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def test_no_server_errors_and_answers_match_the_schema(
    services: Services, bearer: dict[str, str]
) -> None:
    app = create_app(services)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app).exclude(
        path_regex=EXCLUDED
    )
    tried = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # every operation's schema is valid
        operation = result.ok()

        @FUZZ
        @given(case=operation.as_strategy())
        def fuzz(case: Any) -> None:
            case.call_and_validate(
                headers=bearer, checks=[not_a_server_error, response_schema_conformance]
            )

        fuzz()
        tried += 1
    assert tried >= 40
