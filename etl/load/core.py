"""``load_dataset``: read, validate and write a dataset folder into Neo4j, by the fastest safe path.

Two write paths give the same graph (``tests/test_load.py`` checks it):

* **bulk** — the database is empty and it is the local managed server (a :class:`LocalNeo4j` is
  passed; never a server given by ``EVENTGRAPH_NEO4J_URI``): the clean rows are written as import
  files, the server is stopped, ``neo4j-admin database import full --overwrite-destination``
  builds the store offline, the server is started again and the schema created. About ten times
  faster than transactions. A marker file makes a killed bulk load safe to re-run
  (:mod:`graph.bulk_import`).
* **merge** — otherwise: batched ``UNWIND $rows AS row MERGE ...`` managed transactions
  (:mod:`etl.load.merge`). Idempotent: re-running a folder changes nothing, and a killed load is
  completed by re-running it.

Validation (and so the reject files) is the same on both paths: references are checked against
the dataset and, for ids the files do not contain, against the database.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
from neo4j import Driver, RoutingControl
from neo4j.exceptions import AuthError, ServiceUnavailable, SessionExpired
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from etl.load import derived
from etl.load.bulk import import_tables
from etl.load.merge import UPSERTS, update_city_locations, write_rows
from etl.load.report import FileReport, LoadReport
from etl.read import find_dataset_files, read_file
from etl.validate import IdLookup, ValidatedDataset, ValidatedFile, validate_dataset, write_rejects
from graph.bulk_import import BulkImport, ImportTable
from graph.queries import query
from graph.schema import ensure_schema
from graph.server import LocalNeo4j
from graph.settings import Settings
from graph.stats import graph_counts

#: Rows per MERGE transaction: large enough to amortise the round trip, small enough for the
#: transaction memory limit (dbms.memory.transaction.total.max = 1g) with wide event rows.
DEFAULT_BATCH_SIZE = 10_000
_LOOKUP_BATCH = 20_000
_EXISTING_IDS = {
    "User": "existing_user_ids",
    "Host": "existing_host_ids",
    "Event": "existing_event_ids",
}


class DatabaseUnavailable(RuntimeError):
    """Neo4j cannot be reached (or refuses the credentials); the CLI exits with code 3."""


def managed_server(settings: Settings) -> LocalNeo4j | None:
    """The local server the settings point at, or ``None`` when ``EVENTGRAPH_NEO4J_URI`` is set
    (only a local managed server may take the bulk path)."""
    return None if settings.uses_external_server else LocalNeo4j.from_settings(settings)


def load_dataset(
    directory: Path | str,
    driver: Driver,
    *,
    server: LocalNeo4j | None = None,
    database: str | None = None,
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = True,
    allow_bulk: bool = True,
    console: Console | None = None,
) -> LoadReport:
    """Validate ``directory`` (rewriting its ``rejects/``) and write its clean rows to the graph.

    Args:
        directory: the dataset folder (DESIGN.md's input format).
        driver: a driver for the target server.
        server: the local managed server behind ``driver``, when it is one: enables the bulk path
            for an empty database (see :func:`managed_server`). ``None``: always MERGE.
        database: the database name (``None``: the server's default).
        strict: write nothing if any row is rejected (the report says ``strict_failed``).
        batch_size: rows per MERGE transaction.
        progress: show rich progress bars.
        allow_bulk: ``False`` forces the MERGE path even for an empty local database.

    Raises:
        etl.read.DatasetError: the folder, a required file or a column is missing, or a file is
            unreadable (nothing is written).
        DatabaseUnavailable: Neo4j cannot be reached.
    """
    started = time.perf_counter()
    directory = Path(directory)
    files = find_dataset_files(directory)
    report = LoadReport(directory, "none")
    seconds: dict[str, float] = {}
    with _progress_bars(progress, console) as bars:
        # Read first: a broken file is found before anything is stopped or written.
        tables: dict[str, pa.Table] = {}
        reading = bars.add_task("read files", total=len(files), unit="files")
        for file in files:
            t0 = time.perf_counter()
            tables[file.name] = read_file(file)
            seconds[file.name] = time.perf_counter() - t0
            bars.advance(reading)
        report.phases["read"] = sum(seconds.values())

        bulk = choose_bulk_import(driver, server, database, allow_bulk=allow_bulk)
        # Nothing to look up in an empty database (or one a killed bulk import left behind).
        lookup = None if bulk is not None else database_id_lookup(driver, database)
        stopping = False
        if bulk is not None and not strict:
            # Stopping takes seconds; the server is not needed for validating an empty database.
            bulk.begin(f"loading {directory.resolve()}")
            bulk.stop_server_in_background()
            stopping = True
        try:
            t0 = time.perf_counter()
            validating = bars.add_task("validate", total=sum(t.num_rows for t in tables.values()))

            def validated(result: ValidatedFile) -> None:
                seconds[result.name] += result.seconds
                bars.advance(validating, result.rows_read)

            dataset = validate_dataset(
                directory, existing_ids=lookup, tables=tables, on_file=validated
            )
            report.rejects_dir = write_rejects(dataset)
            report.phases["validate"] = time.perf_counter() - t0
            if strict and dataset.rows_rejected:
                report.strict_failed = True
                report.files = _file_reports(dataset, seconds, loaded=False)
                if bulk is not None:
                    bulk.restore_server()
                report.seconds = time.perf_counter() - started
                return report
            if bulk is not None:
                report.path = "bulk"
                if not stopping:
                    bulk.begin(f"loading {directory.resolve()}")
                    bulk.stop_server_in_background()
                _write_bulk(dataset, driver, database, bulk, report, seconds, bars)
            else:
                report.path = "merge"
                _write_merge(dataset, driver, database, batch_size, report, seconds, bars)
        except BaseException:
            if bulk is not None:
                # Leave the marker (the next load redoes the import) and the server running; a
                # failure to restart must not hide the error that got us here.
                with contextlib.suppress(Exception):
                    bulk.restore_server()
            raise
    report.files = _file_reports(dataset, seconds, loaded=True)
    report.seconds = time.perf_counter() - started
    return report


def choose_bulk_import(
    driver: Driver, server: LocalNeo4j | None, database: str | None, *, allow_bulk: bool = True
) -> BulkImport | None:
    """The bulk import to run, or ``None`` for the MERGE path.

    Bulk when ``server`` (the local managed server) is given and either its database is empty
    or an earlier bulk load of it was killed (its marker is still there: the content is then
    whatever the killed import left, and is overwritten). Otherwise this is also where an
    unreachable database is found (:class:`DatabaseUnavailable`, without retries).
    """
    bulk = BulkImport(server, database or "neo4j") if server and allow_bulk else None
    if bulk is not None and bulk.interrupted():
        return bulk  # the server may well be down: the killed load had stopped it
    if _database_is_empty(driver, database) and bulk is not None:
        return bulk
    return None


# --- the two write paths -------------------------------------------------------------------


def _write_merge(
    dataset: ValidatedDataset,
    driver: Driver,
    database: str | None,
    batch_size: int,
    report: LoadReport,
    seconds: dict[str, float],
    bars: _Bars,
) -> None:
    t0 = time.perf_counter()
    ensure_schema(driver, database)
    cities = derived.cities(dataset)
    write_rows(
        driver, database, "upsert_cities", pa.Table.from_pandas(cities), batch_size=batch_size
    )
    write_rows(
        driver,
        database,
        "upsert_categories",
        pa.Table.from_pandas(derived.categories(dataset)),
        batch_size=batch_size,
    )
    report.phases["schema, cities, categories"] = time.perf_counter() - t0
    for name, statement in UPSERTS.items():
        if name not in dataset.files:
            continue
        clean = dataset.files[name].table
        task = bars.add_task(f"write {name}", total=clean.num_rows)
        t1 = time.perf_counter()
        write_rows(
            driver, database, statement, clean, batch_size=batch_size,
            on_batch=lambda n, task=task: bars.advance(task, n),
        )  # fmt: skip
        seconds[name] += time.perf_counter() - t1
    report.phases["write"] = time.perf_counter() - t0
    t2 = time.perf_counter()
    update_city_locations(driver, database, cities["name"].tolist())
    report.phases["city locations"] = time.perf_counter() - t2


def _write_bulk(
    dataset: ValidatedDataset,
    driver: Driver,
    database: str | None,
    bulk: BulkImport,
    report: LoadReport,
    seconds: dict[str, float],
    bars: _Bars,
) -> None:
    t0 = time.perf_counter()
    steps = bars.add_task("bulk import", total=5, unit="steps")
    tables = import_tables(dataset)
    args = bulk.write(tables)
    _phase(report, "write import files", t0)
    bars.advance(steps)

    t1 = time.perf_counter()
    bulk.wait_until_stopped()
    _phase(report, "wait for server stop", t1)
    bars.advance(steps)

    t1 = time.perf_counter()
    bulk.run(args)
    _phase(report, "neo4j-admin import", t1)
    bars.advance(steps)

    t1 = time.perf_counter()
    bulk.start_server_in_background()
    try:
        _reconnect(driver, database, failed=bulk.start_failed)
    except (ServiceUnavailable, SessionExpired):
        bulk.wait_until_started()  # raises the start's own error (log tail), if it failed
        raise
    _phase(report, "start server", t1)
    bars.advance(steps)

    t1 = time.perf_counter()
    ensure_schema(driver, database)  # index population of the imported data included
    _phase(report, "schema", t1)
    t1 = time.perf_counter()
    cities = [t for t in tables if t.name == "City"]
    names = cities[0].table.column(0).to_pylist() if cities else []
    update_city_locations(driver, database, names)
    _check_counts(driver, database, tables)
    bulk.wait_until_started()  # the web server (Browser) comes up meanwhile
    _phase(report, "city locations, checks", t1)
    bars.advance(steps)
    bulk.finish()

    # The import's time is shared among the files by rows, for the per-file rows/s.
    total = time.perf_counter() - t0
    rows = sum(f.rows_read for f in dataset.files.values()) or 1
    for name, result in dataset.files.items():
        seconds[name] += total * result.rows_read / rows


def _phase(report: LoadReport, name: str, since: float) -> None:
    report.phases[name] = time.perf_counter() - since


def _check_counts(driver: Driver, database: str | None, tables: Sequence[ImportTable]) -> None:
    """The imported graph has exactly the nodes and relationships of the import files."""
    quiet = logging.getLogger("neo4j.notifications")  # "type SAVED does not exist" is expected
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        nodes, rels = graph_counts(driver, database)
    finally:
        quiet.setLevel(level)
    for table in tables:
        found = (nodes if table.kind == "nodes" else rels).get(table.name, 0)
        if found != table.table.num_rows:
            raise RuntimeError(
                f"bulk import wrote {found:,} {table.name} {table.kind}, expected "
                f"{table.table.num_rows:,}; "
                "run the load again (it re-imports)"
            )


def _reconnect(
    driver: Driver, database: str | None, *, failed: Callable[[], bool], timeout: float = 300
) -> None:
    """Reach the restarted server and forget the bookmarks of the store the import replaced.

    The driver's pooled connections died with the old server, and ``execute_query`` remembers
    bookmarks (transaction ids) of the old store; the new store starts again at a low id, so
    those bookmarks would make every later query wait for transactions that will never come.
    ``failed()`` says whether the server's start has failed (then waiting is pointless).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with driver.session(database=database) as session:
                session.run("RETURN 1").consume()
                fresh = session.last_bookmarks()
            break
        except (ServiceUnavailable, SessionExpired):
            if time.monotonic() > deadline or failed():
                raise
            time.sleep(0.2)
    manager = driver.execute_query_bookmark_manager
    stale = manager.get_bookmarks()
    if fresh.raw_values:
        manager.update_bookmarks(stale, fresh.raw_values)


# --- the database ----------------------------------------------------------------------------


def _database_is_empty(driver: Driver, database: str | None) -> bool:
    """Also the reachability check: fails fast (no retries) when the server is down."""
    try:
        driver.verify_connectivity()
        records, _, _ = driver.execute_query(
            query("database_is_empty"), database_=database, routing_=RoutingControl.READ
        )
    except (ServiceUnavailable, SessionExpired, AuthError, OSError) as exc:
        raise DatabaseUnavailable(f"Neo4j is not reachable: {exc}") from exc
    return bool(records[0]["empty"])


def database_id_lookup(driver: Driver, database: str | None) -> IdLookup:
    """Which referenced ids the database already has, asked in batches (for the validator)."""

    def existing(label: str, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        ids = list(ids)
        for start in range(0, len(ids), _LOOKUP_BATCH):
            records, _, _ = driver.execute_query(
                query(_EXISTING_IDS[label]),
                ids=ids[start : start + _LOOKUP_BATCH],
                database_=database,
                routing_=RoutingControl.READ,
            )
            found.update(r["id"] for r in records)
        return found

    return existing


# --- reporting -------------------------------------------------------------------------------


def _file_reports(
    dataset: ValidatedDataset, seconds: dict[str, float], *, loaded: bool
) -> list[FileReport]:
    return [
        FileReport(
            name=name,
            source=result.path.name,
            read=result.rows_read,
            loaded=len(result.clean) if loaded else 0,
            rejected=result.rows_rejected,
            seconds=seconds.get(name, 0.0),
        )
        for name, result in dataset.files.items()
    ]


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        unit = task.fields.get("unit", "rows")
        return Text(f"{speed:,.0f} {unit}/s" if speed else "", style="cyan")


class _Bars:
    """Rich progress bars, or nothing (``progress=False``)."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress

    def add_task(self, description: str, total: int, unit: str = "rows") -> TaskID:
        if self._progress is None:
            return TaskID(0)
        return self._progress.add_task(description, total=total, unit=unit)

    def advance(self, task: TaskID, n: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(task, n)


@contextmanager
def _progress_bars(enabled: bool, console: Console | None) -> Iterator[_Bars]:
    if not enabled:
        yield _Bars(None)
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        yield _Bars(progress)
