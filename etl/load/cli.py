"""``eventgraph etl load`` and ``eventgraph etl validate`` (registered in :mod:`etl.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from neo4j.exceptions import AuthError, ServiceUnavailable, SessionExpired
from rich.console import Console
from rich.table import Table

from etl.load.core import (
    DEFAULT_BATCH_SIZE,
    DatabaseUnavailable,
    database_id_lookup,
    load_dataset,
    managed_server,
)
from etl.load.report import LoadReport
from etl.read import DatasetError
from etl.validate import ValidatedDataset, validate_dataset, write_rejects
from graph.connection import open_driver
from graph.server import Neo4jServerError
from graph.settings import get_settings

console = Console()

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_BAD_DATASET = 2
EXIT_UNREACHABLE = 3


def load_command(
    directory: Annotated[
        Path, typer.Argument(help="Dataset folder: users.csv, events.csv, ... (or .parquet).")
    ],
    strict: Annotated[
        bool, typer.Option("--strict", help="Load nothing if any row is rejected (exit 1).")
    ] = False,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows per MERGE transaction.")
    ] = DEFAULT_BATCH_SIZE,
    bulk: Annotated[
        bool,
        typer.Option(
            "--bulk/--no-bulk",
            help="Use neo4j-admin's offline import when the local managed database is empty.",
        ),
    ] = True,
) -> None:
    """Validate a dataset folder and load it into Neo4j (idempotent).

    Rejected rows go to DIR/rejects/<file>.csv with a reason; the rest is loaded.
    An empty local database is filled by neo4j-admin's offline import (the
    server restarts); otherwise rows are upserted in batched MERGE transactions.
    A killed load is completed by running it again.

    Exit codes:
      0  loaded (rejected rows, if any, are in DIR/rejects/)
      1  --strict and some rows were rejected: nothing was loaded
      2  bad folder, missing required file or column, or unreadable file
      3  the database is unreachable (or refuses the credentials)
    """
    report = load_and_report(directory, strict=strict, batch_size=batch_size, allow_bulk=bulk)
    if report.strict_failed:
        console.print(
            f"[red]--strict: {report.rows_rejected:,} rows rejected, nothing loaded.[/red] "
            f"Reasons in {report.rejects_dir}/"
        )
        raise typer.Exit(EXIT_REJECTED)


def load_and_report(
    directory: Path,
    *,
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    allow_bulk: bool = True,
) -> LoadReport:
    """Load ``directory`` into the configured Neo4j and print the summary table; every failure
    becomes the documented exit code (shared by ``etl load`` and the importers)."""
    settings = get_settings()
    try:
        with open_driver(settings) as driver:
            report = load_dataset(
                directory,
                driver,
                server=managed_server(settings),
                database=settings.neo4j_database,
                strict=strict,
                batch_size=batch_size,
                allow_bulk=allow_bulk,
                console=console,
            )
    except DatasetError as exc:
        console.print(f"[red]Cannot load {directory}:[/red] {exc}")
        raise typer.Exit(EXIT_BAD_DATASET) from exc
    except (DatabaseUnavailable, ServiceUnavailable, SessionExpired, AuthError) as exc:
        _unreachable(exc, settings.bolt_uri, settings.uses_external_server)
        raise typer.Exit(EXIT_UNREACHABLE) from exc
    except Neo4jServerError as exc:  # the bulk path could not stop, import or start again
        console.print(f"[red]The local Neo4j server failed:[/red] {exc}")
        console.print("Run the load again: it redoes the import.")
        raise typer.Exit(EXIT_UNREACHABLE) from exc
    _print_load(report)
    return report


def validate_command(
    directory: Annotated[
        Path, typer.Argument(help="Dataset folder: users.csv, events.csv, ... (or .parquet).")
    ],
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Do not ask the database about referenced ids the files do not contain "
            "(they count as missing).",
        ),
    ] = False,
) -> None:
    """Validate a dataset folder and write DIR/rejects/ without loading anything.

    Referenced ids that the files lack are looked up in the database, as the
    loader does (unless --offline).

    Exit codes:
      0  every row is valid
      1  some rows were rejected (see DIR/rejects/)
      2  bad folder, missing required file or column, or unreadable file
      3  the database is unreachable (without --offline)
    """
    settings = get_settings()
    try:
        if offline:
            dataset = validate_dataset(directory)
        else:
            with open_driver(settings) as driver:
                driver.verify_connectivity()
                dataset = validate_dataset(
                    directory, existing_ids=database_id_lookup(driver, settings.neo4j_database)
                )
        rejects = write_rejects(dataset)
    except DatasetError as exc:
        console.print(f"[red]Cannot validate {directory}:[/red] {exc}")
        raise typer.Exit(EXIT_BAD_DATASET) from exc
    except (ServiceUnavailable, SessionExpired, AuthError) as exc:
        _unreachable(exc, settings.bolt_uri, settings.uses_external_server)
        raise typer.Exit(EXIT_UNREACHABLE) from exc
    _print_validation(dataset)
    if dataset.rows_rejected:
        console.print(f"{dataset.rows_rejected:,} rows rejected; reasons in {rejects}/")
        raise typer.Exit(EXIT_REJECTED)


def _unreachable(exc: Exception, uri: str, external: bool) -> None:
    hint = "" if external else " Start the local server with: eventgraph neo4j start"
    console.print(f"[red]Neo4j at {uri} is unreachable:[/red] {exc}.{hint}")


def _print_load(report: LoadReport) -> None:
    path = {"bulk": "bulk import", "merge": "MERGE", "none": "nothing written"}[report.path]
    table = Table(
        "file", "read", "loaded", "rejected", "rows/s", title=f"Loaded {report.directory} ({path})"
    )
    for f in report.files:
        table.add_row(
            f.source,
            f"{f.read:,}",
            f"{f.loaded:,}",
            f"[yellow]{f.rejected:,}[/yellow]" if f.rejected else "0",
            f"{f.rows_per_s:,.0f}",
        )
    table.add_row(
        "total",
        f"{report.rows_read:,}",
        f"{report.rows_loaded:,}",
        f"{report.rows_rejected:,}",
        f"{report.rows_per_s:,.0f}",
        style="bold",
    )
    console.print(table)
    console.print(
        f"{report.rows_read:,} rows in {report.seconds:.1f} s: {report.rows_per_s:,.0f} rows/s "
        f"overall ({path})."
    )
    if report.rows_rejected:
        console.print(f"Rejected rows and their reasons: {report.rejects_dir}/")


def _print_validation(dataset: ValidatedDataset) -> None:
    table = Table("file", "read", "valid", "rejected", title=f"Validated {dataset.directory}")
    for f in dataset.files.values():
        table.add_row(
            f.path.name,
            f"{f.rows_read:,}",
            f"{f.rows_clean:,}",
            f"[yellow]{f.rows_rejected:,}[/yellow]" if f.rows_rejected else "0",
        )
    console.print(table)
