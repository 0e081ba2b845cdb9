"""The incremental write path: batched ``UNWIND $rows AS row MERGE ...`` transactions.

Each batch is one managed transaction (``session.execute_write``), so the driver retries it on
transient errors. Every statement MERGEs on the uniqueness-constrained keys and SETs every
property, so writing the same rows again changes nothing, and a load killed halfway is completed
by running it again. The Cypher is in ``graph/cypher/upsert_<file>.cypher``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
from neo4j import Driver, ManagedTransaction

from graph.queries import query

#: Input file -> its upsert statement, in write order (referenced nodes first).
UPSERTS: dict[str, str] = {
    "users": "upsert_users",
    "hosts": "upsert_hosts",
    "events": "upsert_events",
    "friendships": "upsert_friendships",
    "registrations": "upsert_registrations",
    "invitations": "upsert_invitations",
    "views": "upsert_views",
    "follows": "upsert_follows",
    "ratings": "upsert_ratings",
}


def write_rows(
    driver: Driver,
    database: str | None,
    statement: str,
    table: pa.Table,
    *,
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Send ``table`` through ``graph/cypher/<statement>.cypher`` in batches; returns the rows.

    Values go as plain Python types (str, int, float, None): the cheapest for the driver to pack.
    """
    if table.num_rows == 0:
        return 0
    text = query(statement)
    columns = {c: table.column(c).to_pylist() for c in table.column_names}
    keys = list(columns)
    written = 0
    with driver.session(database=database) as session:
        for start in range(0, table.num_rows, batch_size):
            stop = start + batch_size
            rows = [
                dict(zip(keys, values, strict=True))
                for values in zip(*(columns[k][start:stop] for k in keys), strict=True)
            ]
            session.execute_write(_run, text, rows)
            written += len(rows)
            if on_batch is not None:
                on_batch(len(rows))
    return written


def _run(tx: ManagedTransaction, text: str, rows: list[dict[str, Any]]) -> None:
    tx.run(text, rows=rows).consume()


def update_city_locations(
    driver: Driver, database: str | None, names: list[str], *, batch_size: int = 2_000
) -> None:
    """Recompute City.location from everything in the graph that LIVES_IN / is IN_CITY there."""
    text = query("city_locations")
    with driver.session(database=database) as session:
        for start in range(0, len(names), batch_size):
            chunk = names[start : start + batch_size]
            session.execute_write(lambda tx, c=chunk: tx.run(text, names=c).consume())
