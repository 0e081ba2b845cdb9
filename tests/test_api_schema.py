"""Property-based test of the API against its own OpenAPI spec (schemathesis): generated requests,
valid and invalid, to every operation, with the write key; none may get a 5xx, and responses
must match the documented schemas.

One check is left out: "schema-valid requests are accepted". Two rules of this API cannot be
written in OpenAPI and reject schema-valid requests on purpose: ``lat`` and ``lon`` go together,
and a write must name ids that exist (422 naming the field, tested in tests/test_api.py).
"""

from __future__ import annotations

import pytest
import schemathesis
from api_server import API_KEY, ServedApi
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = pytest.mark.neo4j


def test_no_server_errors_and_responses_match_the_spec(served_api: ServedApi) -> None:
    schema = schemathesis.openapi.from_url(f"{served_api.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers={"X-API-Key": API_KEY}, excluded_checks=[positive_data_acceptance]
            )

        check()
