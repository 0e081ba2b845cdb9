"""Counts of what is in the graph: for `eventgraph graph counts`, the loader's checks and tests."""

from __future__ import annotations

from neo4j import Driver

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
    rels: dict[str, int] = {}
    # A type nobody wrote yet (SAVED) makes the server warn; here zero is the answer, not a typo.
    with driver.session(
        database=database, default_access_mode="READ", notifications_min_severity="OFF"
    ) as session:
        for label in LABELS:
            # Labels cannot be parameters; they come from the fixed tuple above, never from input.
            nodes[label] = session.run(f"MATCH (n:{label}) RETURN count(n) AS n").single()["n"]
        for rel in RELATIONSHIPS:
            rels[rel] = session.run(f"MATCH ()-[r:{rel}]->() RETURN count(r) AS n").single()["n"]
    return nodes, rels
