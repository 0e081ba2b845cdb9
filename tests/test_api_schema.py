"""Property-based test of the API against its own OpenAPI spec (schemathesis): generated requests,
valid and invalid, to every operation, with the write key; none may get a 5xx, and responses
must match the documented schemas."""

from __future__ import annotations

import pytest
import schemathesis
from api_server import API_KEY, ServedApi
from hypothesis import HealthCheck, settings

pytestmark = pytest.mark.neo4j


@pytest.fixture
def api_schema(served_api: ServedApi) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{served_api.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"X-API-Key": API_KEY})
