"""Load a dataset folder into Neo4j: validate every row, write rejects, upsert the rest.

``load_dataset`` is what the CLI (``eventgraph etl load``), the demo and the importers call; see
:mod:`etl.load.core` for the two write paths (offline bulk import into an empty local database,
batched MERGE otherwise).
"""

from etl.load.core import (
    DEFAULT_BATCH_SIZE,
    DatabaseUnavailable,
    load_dataset,
    managed_server,
)
from etl.load.report import FileReport, LoadReport

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DatabaseUnavailable",
    "FileReport",
    "LoadReport",
    "load_dataset",
    "managed_server",
]
