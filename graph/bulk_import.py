"""Neo4j's offline bulk importer (``neo4j-admin database import full``) for the local server.

An empty database is filled fastest offline: the importer writes the store files directly, about
ten times faster than batched ``UNWIND ... MERGE`` transactions. It needs the server stopped, so
it is only for the local managed server (:class:`graph.server.LocalNeo4j`), never for a server
given by ``EVENTGRAPH_NEO4J_URI``.

The caller hands over one table per label and per relationship type whose column names already
follow the importer's header format (``id:ID(User)``, ``:START_ID(User)``,
``location:point{crs:WGS-84}``, ``at:datetime``, ``tags:string[]``, ...). :class:`BulkImport`
writes them as CSV into the server's import folder and runs the importer with
``--overwrite-destination``.

A marker file in the server home (:attr:`BulkImport.marker`) is written before the server is
stopped and removed by :meth:`BulkImport.finish` once the load is complete. If the process dies
in between, the marker says that the database content cannot be trusted (it was empty before, it
may be half-imported now); the next load sees it and redoes the import, overwriting.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pacsv

from graph.server import LocalNeo4j

#: Separator of the elements of array properties (``tags:string[]``) in the import files.
ARRAY_DELIMITER = "|"
IMPORT_FOLDER = "eventgraph-bulk"


@dataclass(frozen=True)
class ImportTable:
    """One import file: the nodes of a label or the relationships of a type."""

    kind: Literal["nodes", "relationships"]
    name: str  # the label or the relationship type
    table: pa.Table  # columns named in the importer's header format; null = no property


class BulkImport:
    """One offline import into ``database`` of a local server: marker, files, stop/import/start."""

    def __init__(self, server: LocalNeo4j, database: str = "neo4j") -> None:
        self.server = server
        self.database = database
        self._stopper: threading.Thread | None = None
        self._stop_error: BaseException | None = None
        self._starter: threading.Thread | None = None
        self._start_error: BaseException | None = None

    # --- the marker ----------------------------------------------------------------------------
    @property
    def marker(self) -> Path:
        return self.server.home / f"bulk-import-{self.database}.in-progress"

    def interrupted(self) -> bool:
        """Whether an earlier bulk load of this database was killed before it finished."""
        return self.marker.exists()

    def begin(self, note: str) -> None:
        """Write the marker; from here on, a crash leaves the database to be re-imported."""
        self.marker.parent.mkdir(parents=True, exist_ok=True)
        self.marker.write_text(f"{datetime.now(UTC).isoformat()} {note}\n", encoding="utf-8")

    def finish(self) -> None:
        """Remove the marker and the import files: the database is complete."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.marker.unlink(missing_ok=True)

    # --- the server ----------------------------------------------------------------------------
    def stop_server_in_background(self) -> None:
        """Begin a clean stop (it takes seconds; the import files are written meanwhile)."""

        def stop() -> None:
            try:
                self.server.stop()
            except BaseException as exc:  # re-raised by wait_until_stopped
                self._stop_error = exc

        self._stopper = threading.Thread(target=stop, name="neo4j-stop", daemon=True)
        self._stopper.start()

    def wait_until_stopped(self) -> None:
        if self._stopper is None:
            self.server.stop()
            return
        self._stopper.join()
        self._stopper = None
        if self._stop_error is not None:
            raise self._stop_error

    def start_server_in_background(self) -> None:
        """Begin starting the server; Bolt answers seconds before the web server is up."""

        def start() -> None:
            try:
                self.server.start()
            except BaseException as exc:  # re-raised by wait_until_started
                self._start_error = exc

        self._start_error = None
        self._starter = threading.Thread(target=start, name="neo4j-start", daemon=True)
        self._starter.start()

    def start_failed(self) -> bool:
        """Whether the start begun by :meth:`start_server_in_background` has failed."""
        return self._start_error is not None

    def wait_until_started(self) -> None:
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        if self._start_error is not None:
            error, self._start_error = self._start_error, None
            raise error

    def restore_server(self) -> None:
        """After a failure: let a stop in progress finish, then make sure the server runs."""
        if self._stopper is not None:
            self._stopper.join()
            self._stopper = None
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        if not self.server.is_running():
            self.server.start()

    # --- the files -----------------------------------------------------------------------------
    @property
    def folder(self) -> Path:
        return self.server.import_dir / IMPORT_FOLDER

    def write(self, tables: Sequence[ImportTable]) -> list[str]:
        """Write one CSV per table into the import folder; returns the importer's arguments."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        args: list[str] = []
        multiline = False
        for i, table in enumerate(tables):
            path = self.folder / f"{i:02d}-{table.kind}-{table.name}.csv"
            arrow = table.table
            multiline = multiline or _has_line_breaks(arrow)
            pacsv.write_csv(
                arrow,
                path,
                write_options=pacsv.WriteOptions(include_header=True, quoting_style="needed"),
            )
            args.append(f"--{table.kind}={table.name}={path}")
        args.append(f"--multiline-fields={'true' if multiline else 'false'}")
        return args

    def run(self, file_args: Sequence[str]) -> str:
        """Run the importer (server stopped); replaces the database. Returns its output."""
        # The database name comes first: options such as --nodes take several values.
        return self.server.admin(
            "database", "import", "full", self.database,
            "--overwrite-destination=true",
            f"--array-delimiter={ARRAY_DELIMITER}",
            "--bad-tolerance=0",
            "--skip-bad-relationships=false",
            "--skip-duplicate-nodes=false",
            f"--report-file={self.folder / 'import.report'}",
            *file_args,
        )  # fmt: skip


def _has_line_breaks(table: pa.Table) -> bool:
    import pyarrow.compute as pc

    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            if column.null_count == len(column):
                continue
            if pc.any(pc.match_substring_regex(column, r"[\r\n]")).as_py():
                return True
    return False
