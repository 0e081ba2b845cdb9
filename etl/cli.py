"""The `eventgraph` command line: one entry point for every part of the product.

Sub-commands import their modules lazily, so `eventgraph neo4j status` does not pay for torch.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.cli import register as register_api_commands
from etl.importers.cli import import_app
from gnn.cli import register as register_gnn_commands
from graph.cli import graph_app, neo4j_app

app = typer.Typer(
    help="eventgraph: a graph-based social event recommender.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(neo4j_app, name="neo4j")
app.add_typer(graph_app, name="graph")

etl_app = typer.Typer(help="Generate, validate, load and import datasets.", no_args_is_help=True)
app.add_typer(etl_app, name="etl")
etl_app.add_typer(import_app, name="import")
register_gnn_commands(app)
register_api_commands(app)


@etl_app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the dataset into.")],
    users: Annotated[int, typer.Option(min=10, help="Number of users.")] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 7,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    now: Annotated[
        str | None,
        typer.Option(help="ISO time the timeline is built around (default: today, 00:00 UTC)."),
    ] = None,
    upcoming_events: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="At least this many events start after --now (extra ones are drawn like the "
            "rest, announced before it); default: the natural 5-7%.",
        ),
    ] = None,
) -> None:
    """Write a synthetic social-event dataset with planted truth (see etl/synthetic)."""
    from etl.synthetic import generate as run_generator

    if fmt not in ("csv", "parquet"):
        raise typer.BadParameter("must be csv or parquet", param_hint="--format")
    at = datetime.fromisoformat(now) if now else None
    if at is not None and at.tzinfo is None:
        raise typer.BadParameter(
            "needs a UTC offset, e.g. 2026-06-01T00:00:00+00:00", param_hint="--now"
        )
    summary = run_generator(
        users, seed, out, fmt=fmt, now=at, progress=True, upcoming_events=upcoming_events
    )  # type: ignore[arg-type]
    table = Table("file", "rows", title=f"Synthetic dataset in {out}")
    for name, n in summary.rows.items():
        table.add_row(name, f"{n:,}")
    Console().print(table)
    Console().print(f"{summary.upcoming:,} events start after {summary.now.isoformat()}")


# Loading lives in etl/load/ (validation, reject files, the MERGE and bulk-import paths).
from etl.load.cli import load_command, validate_command  # noqa: E402

etl_app.command("load")(load_command)
etl_app.command("validate")(validate_command)
