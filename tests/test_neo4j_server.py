"""The project's own Neo4j server: it runs, auth is on, and the schema is in place."""

from __future__ import annotations

import os
import urllib.request

import pytest
from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError

from graph.schema import ensure_schema, schema_overview
from graph.settings import Settings


def test_server_answers_bolt_with_auth(neo4j_settings: Settings, driver: Driver) -> None:
    records, _, _ = driver.execute_query(
        "CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition"
    )
    assert records[0]["edition"] == "community"
    assert records[0]["versions"][0].startswith("5.26")


def test_wrong_password_is_refused(neo4j_settings: Settings) -> None:
    with (
        GraphDatabase.driver(neo4j_settings.bolt_uri, auth=("neo4j", "not-the-password")) as bad,
        pytest.raises(AuthError),
    ):
        bad.verify_connectivity()


def test_browser_is_served(neo4j_settings: Settings) -> None:
    if os.environ.get("EVENTGRAPH_TEST_NEO4J_URI"):
        pytest.skip("the Browser check needs the suite's own server")
    url = f"http://127.0.0.1:{neo4j_settings.neo4j_http_port}/browser/"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert b"Neo4j Browser" in response.read()


def test_schema_is_idempotent(driver: Driver) -> None:
    ensure_schema(driver)
    first = schema_overview(driver)
    ensure_schema(driver)
    assert schema_overview(driver) == first
    assert {"user_id", "event_id", "host_id", "category_name", "city_name"} <= set(
        first["constraints"]
    )
    assert {"event_location", "event_start_time"} <= set(first["indexes"])
