"""Counts of what is in the graph: for `eventgraph graph counts`, the loader's checks and tests."""

from __future__ import annotations

from neo4j import Driver, RoutingControl

LABELS = ("User", "Event", "Host", "Category", "City")
RELATIONSHIPS = (
    "FRIENDS_WITH", "HOSTS", "RUNS", "FOLLOWS", "REGISTERED", "INVITED_TO", "VIEWED", "SAVED",
    "RATED", "IN_CATEGORY", "IN_CITY", "LIVES_IN",
)  # fmt: skip


def graph_counts(
    driver: Driver, database: str | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    """Nodes per label and relationships per type, read from the count store (no scans)."""
    nodes: dict[str, int] = {}
    for label in LABELS:
        # Labels cannot be parameters; they come from the fixed tuple above, never from input.
        records, _, _ = driver.execute_query(
            f"MATCH (n:{label}) RETURN count(n) AS n",
            database_=database,
            routing_=RoutingControl.READ,
        )
        nodes[label] = records[0]["n"]
    rels: dict[str, int] = {}
    for rel in RELATIONSHIPS:
        records, _, _ = driver.execute_query(
            f"MATCH ()-[r:{rel}]->() RETURN count(r) AS n",
            database_=database,
            routing_=RoutingControl.READ,
        )
        rels[rel] = records[0]["n"]
    return nodes, rels
