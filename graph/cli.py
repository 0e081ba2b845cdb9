"""`eventgraph neo4j ...` (the local server) and `eventgraph graph ...` (schema, counts)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from graph.connection import open_driver
from graph.schema import ensure_schema, schema_overview
from graph.server import LocalNeo4j, Neo4jServerError
from graph.settings import get_settings

console = Console()
neo4j_app = typer.Typer(help="Install, start, stop and query the local Neo4j server.")
graph_app = typer.Typer(help="The graph schema and what is in the database.")


def _server() -> LocalNeo4j:
    return LocalNeo4j.from_settings(get_settings())


def _external_notice() -> bool:
    settings = get_settings()
    if settings.uses_external_server:
        console.print(
            f"EVENTGRAPH_NEO4J_URI is set ({settings.neo4j_uri}): using that server; "
            "the local one is not managed."
        )
        return True
    return False


@neo4j_app.command()
def install() -> None:
    """Resolve Neo4j Community and the Browser from Maven Central into the cache folder."""
    if _external_notice():
        return
    server = _server()
    with console.status(f"Resolving Neo4j {server.version} with Maven..."):
        try:
            lib = server.install()
        except Neo4jServerError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
    console.print(f"Neo4j {server.version} installed in {lib}")


@neo4j_app.command()
def start(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for Bolt.")] = 120,
) -> None:
    """Start the local server in the background; returns once Bolt answers."""
    if _external_notice():
        return
    server = _server()
    with console.status("Starting Neo4j..."):
        try:
            status = server.start(timeout=timeout)
        except Neo4jServerError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from exc
    settings = get_settings()
    console.print(status.describe())
    console.print(f"  login:   {settings.neo4j_user} / (EVENTGRAPH_NEO4J_PASSWORD)")


@neo4j_app.command()
def stop() -> None:
    """Stop the local server cleanly."""
    if _external_notice():
        return
    was_running = _server().stop()
    console.print("Neo4j stopped." if was_running else "Neo4j was not running.")


@neo4j_app.command()
def status() -> None:
    """Say what runs where."""
    if _external_notice():
        return
    console.print(_server().status().describe())


@neo4j_app.command()
def cypher(
    query: Annotated[str, typer.Argument(help="One Cypher statement.")],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="name=value (JSON value or text).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of records.")] = False,
) -> None:
    """Run one query with the configured credentials and print the records."""
    params: dict[str, object] = {}
    for item in param or []:
        name, _, raw = item.partition("=")
        try:
            params[name] = json.loads(raw)
        except json.JSONDecodeError:
            params[name] = raw
    settings = get_settings()
    with open_driver(settings) as driver:
        records, _, keys = driver.execute_query(query, params, database_=settings.neo4j_database)
    rows = [_jsonable(r.data()) for r in records]
    if as_json:
        typer.echo(json.dumps(rows, default=str))
        return
    table = Table(*keys)
    for row in rows:
        table.add_row(*(str(row[k]) for k in keys))
    console.print(table)


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "iso_format"):
        return value.iso_format()
    if hasattr(value, "x") and hasattr(value, "srid"):
        return {"srid": value.srid, "coordinates": list(value)}
    return value


@graph_app.command()
def init() -> None:
    """Create the constraints and indexes (idempotent)."""
    settings = get_settings()
    with open_driver(settings) as driver:
        ensure_schema(driver, settings.neo4j_database)
        overview = schema_overview(driver, settings.neo4j_database)
    console.print(
        f"Schema ready: {len(overview['constraints'])} constraints, "
        f"{len(overview['indexes'])} indexes online."
    )


@graph_app.command()
def counts() -> None:
    """Nodes per label and relationships per type."""
    from graph.stats import graph_counts

    settings = get_settings()
    with open_driver(settings) as driver:
        nodes, rels = graph_counts(driver, settings.neo4j_database)
    table = Table("kind", "name", "count")
    for label, n in nodes.items():
        table.add_row("node", label, f"{n:,}")
    for rel, n in rels.items():
        table.add_row("relationship", rel, f"{n:,}")
    console.print(table)
