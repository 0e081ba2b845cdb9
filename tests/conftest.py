"""Shared fixtures: the test suite's own real Neo4j server, started once per session.

The server runs from a temporary home on its own ports (17687 / 17474 by default), so a test run
never touches the demo database. Set ``EVENTGRAPH_TEST_NEO4J_URI`` (and ``..._PASSWORD``) to run
the suite against an existing server instead; its database is wiped by the tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_server import ServedApi, has_graph, load_graph, start_served_api, stop_served_api
from neo4j import Driver

from graph.connection import open_driver
from graph.schema import ensure_schema
from graph.server import LocalNeo4j
from graph.settings import Settings

TEST_BOLT_PORT = int(os.environ.get("EVENTGRAPH_TEST_NEO4J_BOLT_PORT", "17687"))
TEST_HTTP_PORT = int(os.environ.get("EVENTGRAPH_TEST_NEO4J_HTTP_PORT", "17474"))
TEST_PASSWORD = os.environ.get("EVENTGRAPH_TEST_NEO4J_PASSWORD", "eventgraph-test-password")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def neo4j_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Settings that point at the test server; starts it (and stops it at the end)."""
    external = os.environ.get("EVENTGRAPH_TEST_NEO4J_URI")
    data_dir = tmp_path_factory.mktemp("eventgraph-test")
    base = Settings(
        neo4j_password=TEST_PASSWORD,
        neo4j_bolt_port=TEST_BOLT_PORT,
        neo4j_http_port=TEST_HTTP_PORT,
        neo4j_heap="1g",
        neo4j_pagecache="1g",
        data_dir=data_dir,
        model_dir=data_dir / "model",
        api_key="test-api-key",
    )
    if external:
        yield base.model_copy(update={"neo4j_uri": external})
        return
    server = LocalNeo4j.from_settings(base)
    server.start(timeout=180)
    try:
        yield base.model_copy(update={"neo4j_uri": server.bolt_uri})
    finally:
        server.stop()


@pytest.fixture(scope="session")
def test_server(neo4j_settings: Settings) -> LocalNeo4j:
    """The managed test server (for tests that stop/start it or use neo4j-admin)."""
    if os.environ.get("EVENTGRAPH_TEST_NEO4J_URI"):
        pytest.skip("runs only against the suite's own managed server")
    return LocalNeo4j.from_settings(neo4j_settings)


@pytest.fixture(scope="session")
def driver(neo4j_settings: Settings) -> Iterator[Driver]:
    drv = open_driver(neo4j_settings)
    ensure_schema(drv)
    yield drv
    drv.close()


def wipe(driver: Driver) -> None:
    """Delete every node and relationship (the schema stays)."""
    # CALL ... IN TRANSACTIONS needs an implicit (auto-commit) transaction: session.run, not
    # execute_query, which wraps the statement in a managed transaction.
    with driver.session() as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()


@pytest.fixture
def empty_graph(driver: Driver) -> Driver:
    """The test database, emptied before the test."""
    wipe(driver)
    ensure_schema(driver)
    return driver


@pytest.fixture(scope="session")
def meetup_dir() -> Path:
    """The real Meetup Chicago files, or a skip that says why."""
    folder = Path(os.environ.get("EVENTGRAPH_MEETUP_DIR", SHARED_DATA / "meetup-chicago"))
    if not (folder / "rsvp_chicago.csv").exists():
        pytest.skip(f"Meetup data not found at {folder} (set EVENTGRAPH_MEETUP_DIR)")
    return folder


@pytest.fixture(scope="session")
def _served_api(
    neo4j_settings: Settings, driver: Driver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedApi]:
    wipe(driver)
    ensure_schema(driver)
    api = start_served_api(neo4j_settings, driver, tmp_path_factory.mktemp("api"))
    yield api
    stop_served_api(api)


@pytest.fixture
def served_api(_served_api: ServedApi, driver: Driver) -> ServedApi:
    """``eventgraph serve`` on a free port with a small synthetic graph and a trained model.

    Other test modules wipe the graph; this puts the API's graph back if one did (same files,
    same ids, so the API's snapshot still fits).
    """
    if not has_graph(driver):
        load_graph(driver, _served_api.dataset)
    return _served_api
