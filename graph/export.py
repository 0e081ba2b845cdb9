"""Read the whole graph out of Neo4j as tables, for training and offline evaluation.

One streamed query per node or relationship type (``graph/cypher/export_*.cypher``), read in
batches of ``fetch_size`` records: never a query per node. Times come out as epoch milliseconds
(float, NaN where absent) so that time filters are plain numpy comparisons downstream.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
from neo4j import Driver

from graph.queries import query

_TIME_COLUMNS = {"joined_at", "start_time", "end_time", "created_at", "since", "at"}


@dataclass
class GraphTables:
    """Every node and relationship type of the graph, one DataFrame each."""

    users: pd.DataFrame
    events: pd.DataFrame
    hosts: pd.DataFrame
    friendships: pd.DataFrame
    registrations: pd.DataFrame
    invitations: pd.DataFrame
    views: pd.DataFrame
    follows: pd.DataFrame
    ratings: pd.DataFrame

    def row_counts(self) -> dict[str, int]:
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Times as float epoch ms (NaN where absent), ids as Python strings."""
    for column in frame.columns:
        if column in _TIME_COLUMNS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(np.float64)
        elif column.endswith("id") or column == "id":
            frame[column] = frame[column].astype("string").astype(object)
    return frame


def read_table(
    driver: Driver, name: str, database: str | None = None, fetch_size: int = 20_000
) -> pd.DataFrame:
    """Stream ``export_<name>.cypher`` into a DataFrame."""
    with driver.session(database=database, fetch_size=fetch_size) as session:
        result = session.run(query(f"export_{name}"))
        keys = result.keys()
        frame = pd.DataFrame.from_records(result.values(), columns=keys)
    return _typed(frame)


def read_by_ids(
    driver: Driver, kind: str, ids: list[str], database: str | None = None
) -> pd.DataFrame:
    """Some users or events (``kind`` "user" or "event") with the columns of their export."""
    records, _, keys = driver.execute_query(
        query(f"{kind}_attributes"), {"ids": list(ids)}, database_=database, routing_="r"
    )
    return _typed(pd.DataFrame.from_records([r.values() for r in records], columns=keys))


def export_graph(driver: Driver, database: str | None = None) -> GraphTables:
    """The whole graph as tables (what training and offline evaluation start from)."""
    return GraphTables(
        **{f.name: read_table(driver, f.name, database) for f in fields(GraphTables)}
    )
