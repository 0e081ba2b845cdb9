"""`eventgraph etl import ...`: convert a public data format into a dataset folder, then load it.

Conversion and loading are two steps on purpose: the dataset folder in between is the ordinary
input format, so it can be inspected, versioned or loaded again (``eventgraph etl load``) without
the source files, and the loader's validation and reject files apply unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from etl.importers.meetup import MeetupImport, convert_meetup, meetup_files

console = Console()
import_app = typer.Typer(
    help="Import public data sets (Meetup RSVP crawls) into the eventgraph format and load them.",
    no_args_is_help=True,
)


@import_app.command()
def meetup(
    source: Annotated[
        Path,
        typer.Argument(
            help="Folder with rsvp_<city>.csv and, optionally, user_group_<city>.csv.",
            metavar="DIR",
            exists=True,
            file_okay=False,
            dir_okay=True,
        ),
    ],
    city: Annotated[
        str, typer.Option(help="City code as in the file names, e.g. chicago for rsvp_chicago.csv.")
    ],
    out: Annotated[
        Path | None,
        typer.Option(help="Dataset folder to write (default: <data_dir>/datasets/meetup-<city>)."),
    ] = None,
    load: Annotated[
        bool, typer.Option("--load/--no-load", help="Load the dataset into Neo4j after writing.")
    ] = True,
    city_label: Annotated[
        str | None,
        typer.Option(help="City name on users and events (default: known name, or code titled)."),
    ] = None,
    country: Annotated[
        str | None, typer.Option(help="Country on events (default: known for the ACDA cities).")
    ] = None,
) -> None:
    """Convert one city's Meetup RSVP crawl into a dataset folder and load it into the graph."""
    from graph.settings import get_settings

    settings = get_settings()
    code = city.strip().lower()
    target = out or settings.data_dir / "datasets" / f"meetup-{code}"
    try:
        meetup_files(source, code)
        with console.status(f"Converting {source} ({code})..."):
            result = convert_meetup(source, code, target, city_label=city_label, country=country)
    except (FileNotFoundError, ValueError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    _print_conversion(result)
    if not load:
        console.print(f"Not loaded (--no-load). Load it later with: eventgraph etl load {target}")
        return
    _load(target, result)


def _print_conversion(result: MeetupImport) -> None:
    table = Table("file", "rows", title=f"Meetup {result.city}: dataset written to {result.out}")
    for name, n in result.rows.items():
        table.add_row(f"{name}.csv", f"{n:,}")
    if result.rejected:
        table.add_row("rejects/import.csv", f"{result.rejected:,}", style="yellow")
    console.print(table)
    console.print(
        f"Read {result.rsvp_lines:,} RSVP lines and {result.membership_lines:,} membership lines."
    )
    if result.events_without_venue:
        console.print(
            f"{result.events_without_venue:,} events have no venue coordinates: "
            f"{result.events_venue_from_group:,} took their group's most common venue, "
            f"{result.events_without_venue - result.events_venue_from_group:,} are written "
            "without a location (the loader rejects them and their RSVPs, with reasons)."
        )
    for kind, n in sorted(result.rejects.items()):
        console.print(f"  import reject {kind}: {n:,}")


def _load(target: Path, result: MeetupImport) -> None:
    """Load the folder into the configured Neo4j and show what went in and what was refused."""
    from etl.load.cli import load_and_report

    report = load_and_report(target)
    if report.rows_rejected or result.rejected:
        console.print(f"Rejected rows, each with its reason: {target / 'rejects'}/")
