"""The Neo4j driver: one per process, created from the settings, closed at shutdown."""

from __future__ import annotations

from neo4j import Driver, GraphDatabase

from graph.settings import Settings


def open_driver(settings: Settings, timeout_s: float | None = None) -> Driver:
    """A driver for the configured server (``EVENTGRAPH_NEO4J_URI``) or the local one.

    Timeouts are short on purpose: a request to a server that is down should fail within a
    second or two and say so, not hang (the API turns it into a 503). ``timeout_s`` overrides
    the connect timeout and also bounds the retries of managed transactions (the API passes
    its ``api_neo4j_timeout_s``).
    """
    timeout = settings.neo4j_connect_timeout_s if timeout_s is None else timeout_s
    extra = {} if timeout_s is None else {"max_transaction_retry_time": timeout_s}
    return GraphDatabase.driver(
        settings.bolt_uri,
        auth=(settings.neo4j_user, settings.neo4j_password.get_secret_value()),
        connection_timeout=timeout,
        connection_acquisition_timeout=timeout if timeout_s is not None else timeout * 2,
        **extra,
        max_connection_pool_size=64,
        liveness_check_timeout=30,
    )
