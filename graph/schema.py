"""Create the graph schema (constraints and indexes); safe to run any number of times."""

from __future__ import annotations

from neo4j import Driver

from graph.queries import statements


def ensure_schema(driver: Driver, database: str | None = None, *, wait_s: float = 300) -> None:
    """Create every constraint and index of ``schema.cypher`` and wait until they are online."""
    for statement in statements("schema"):
        driver.execute_query(statement, database_=database)
    driver.execute_query("CALL db.awaitIndexes($timeout)", timeout=int(wait_s), database_=database)


def schema_overview(driver: Driver, database: str | None = None) -> dict[str, list[str]]:
    """Names of the constraints and indexes that exist, for status output and tests."""
    constraints, _, _ = driver.execute_query("SHOW CONSTRAINTS YIELD name", database_=database)
    indexes, _, _ = driver.execute_query(
        "SHOW INDEXES YIELD name, state WHERE state = 'ONLINE'", database_=database
    )
    return {
        "constraints": sorted(r["name"] for r in constraints),
        "indexes": sorted(r["name"] for r in indexes),
    }
