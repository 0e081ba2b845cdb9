"""`eventgraph evaluate`: every model on the temporal hold-out of the loaded graph, one report.

``register(app)`` adds the command to the ``eventgraph`` typer app (``etl/cli.py`` calls it).
The heavy imports (torch, PyG, lightgbm) happen inside the command, so other commands stay fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()

TABLE_COLUMNS = ("ndcg@10", "recall@10", "map@10", "precision@10", "mrr", "auc", "coverage@10")


def evaluate_cmd(
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="Trained GNN model folder (default: the settings' model_dir when it holds a "
            "model). Without one the gnn row is skipped.",
            file_okay=False,
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Report folder: report.json, report.md, rankings.parquet, PNG plots."
        ),
    ] = Path("var/reports/evaluation"),
    cutoff: Annotated[
        str | None,
        typer.Option(
            "--cutoff",
            help="Cutoff T, ISO 8601 with an offset or epoch ms (default: the 80th percentile "
            "of the going registrations' times).",
        ),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(
            "--truth",
            help="Planted truth of a synthetic dataset (the dataset folder or its truth/ "
            "folder): adds the oracle row.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    models: Annotated[
        str | None,
        typer.Option(
            "--models",
            help="Comma-separated subset of random,popularity,host_rule,item_knn,mf,lightgbm,"
            "gnn,oracle (default: all that can run).",
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Seed of every random choice (same seed, same numbers).")
    ] = 0,
    max_users: Annotated[
        int | None,
        typer.Option(help="Evaluate a seeded sample of this many test users (big graphs)."),
    ] = None,
) -> None:
    """Evaluate the GNN and the baselines on a temporal split of the graph in Neo4j."""
    from neo4j.exceptions import AuthError, ServiceUnavailable

    from gnn.evaluate import MODELS, evaluate, load_truth, parse_time
    from graph.connection import open_driver
    from graph.export import export_graph
    from graph.settings import get_settings

    settings = get_settings()
    try:
        cutoff_ms = parse_time(cutoff)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--cutoff") from exc
    names = list(MODELS)
    if models:
        names = [m.strip() for m in models.split(",") if m.strip()]
        unknown = sorted(set(names) - set(MODELS))
        if unknown:
            raise typer.BadParameter(
                f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}",
                param_hint="--models",
            )
    if model is None and (settings.model_dir / "config.json").exists():
        model = settings.model_dir
    truth_obj: Any = None
    if truth is not None:
        try:
            truth_obj = load_truth(truth)
        except (FileNotFoundError, ImportError, ValueError) as exc:
            raise typer.BadParameter(str(exc), param_hint="--truth") from exc

    driver = open_driver(settings)
    try:
        with console.status(f"Reading the graph from {settings.bolt_uri} ..."):
            tables = export_graph(driver, database=settings.neo4j_database)
    except (ServiceUnavailable, AuthError, OSError) as exc:
        console.print(
            f"[red]Cannot read the graph from Neo4j at {settings.bolt_uri}:[/red] {exc}\n"
            "Start the server (`eventgraph neo4j start`) or set EVENTGRAPH_NEO4J_URI."
        )
        raise typer.Exit(1) from exc
    finally:
        driver.close()
    counts = tables.row_counts()
    console.print(
        "Graph: " + ", ".join(f"{n:,} {k}" for k, n in counts.items() if n), highlight=False
    )
    if counts["registrations"] == 0:
        console.print("[red]The graph has no registrations: nothing to evaluate.[/red]")
        raise typer.Exit(1)
    try:
        report = evaluate(
            tables,
            out,
            cutoff_ms=cutoff_ms,
            rankers=names,
            truth=truth_obj,
            model_dir=model,
            seed=seed,
            max_test_users=max_users,
            progress=True,
            console=console,
        )
    except ValueError as exc:
        console.print(f"[red]Evaluation failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    print_summary(report, out)


def print_summary(report: dict[str, Any], out: Path) -> None:
    p = report["protocol"]
    table = Table(
        "model",
        *TABLE_COLUMNS,
        title=f"Model view at {p['cutoff']}: {p['test_users']:,} test users, "
        f"{p['test_positives']:,} positives, {p['open_events']:,} open events",
    )
    for name, values in report["models"].items():
        table.add_row(
            name, *("–" if values.get(c) is None else f"{values[c]:.4f}" for c in TABLE_COLUMNS)
        )
    console.print(table)
    for name, why in p.get("skipped_models", {}).items():
        console.print(f"[yellow]{name} skipped:[/yellow] {why}")
    console.print(f"Report: {out / 'report.md'} (and report.json, rankings.parquet, plots)")


def register(app: typer.Typer) -> None:
    """Add ``evaluate`` to the ``eventgraph`` app."""
    app.command("evaluate")(evaluate_cmd)
