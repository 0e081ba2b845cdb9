"""The `eventgraph` command line: one entry point for every part of the product.

Sub-commands import their modules lazily, so `eventgraph neo4j status` does not pay for torch.
"""

from __future__ import annotations

import typer

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
