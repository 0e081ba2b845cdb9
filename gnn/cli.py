"""`eventgraph train` and `eventgraph evaluate`: the model, and every model on a temporal hold-out.

``register(app)`` adds the commands to the ``eventgraph`` typer app (``etl/cli.py`` calls it).
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
    funnel: Annotated[
        bool,
        typer.Option(
            "--funnel/--no-funnel",
            help="Also rank within the Cypher stage-1 candidates at the cutoff (funnel view).",
        ),
    ] = True,
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
        driver.close()
        console.print(
            f"[red]Cannot read the graph from Neo4j at {settings.bolt_uri}:[/red] {exc}\n"
            "Start the server (`eventgraph neo4j start`) or set EVENTGRAPH_NEO4J_URI."
        )
        raise typer.Exit(1) from exc
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
            candidate_fn=_cypher_candidates(driver, settings.neo4j_database) if funnel else None,
            seed=seed,
            max_test_users=max_users,
            progress=True,
            console=console,
        )
    except ValueError as exc:
        console.print(f"[red]Evaluation failed:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        driver.close()
    print_summary(report, out)


def train_cmd(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Model folder to write (default: EVENTGRAPH_MODEL_DIR)."),
    ] = None,
    cutoff: Annotated[
        str | None,
        typer.Option(
            "--cutoff",
            help="Train on what happened at or before this moment (ISO 8601 with an offset, "
            "epoch ms, or 'all' for everything in the graph). Default: the evaluation's cutoff "
            "(80th percentile of the going registrations' times), so that `eventgraph evaluate` "
            "can measure the model honestly.",
        ),
    ] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Maximum epochs.")] = 30,
    hidden: Annotated[int, typer.Option(min=4, help="Embedding size.")] = 16,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
) -> None:
    """Train the GraphSAGE recommender from the graph in Neo4j and save a model folder."""
    from neo4j.exceptions import AuthError, ServiceUnavailable

    from gnn.evaluate import parse_time
    from gnn.history import Catalog
    from gnn.model_ranker import GNNRanker
    from gnn.split import default_cutoff, max_time, truncate
    from gnn.train import TrainConfig
    from graph.connection import open_driver
    from graph.export import export_graph
    from graph.settings import get_settings

    settings = get_settings()
    folder = out or settings.model_dir
    try:
        with open_driver(settings) as driver, console.status("Reading the graph ..."):
            tables = export_graph(driver, database=settings.neo4j_database)
    except (ServiceUnavailable, AuthError, OSError) as exc:
        console.print(f"[red]Cannot read the graph from Neo4j at {settings.bolt_uri}:[/red] {exc}")
        raise typer.Exit(1) from exc
    if len(tables.registrations) == 0:
        console.print("[red]The graph has no registrations: nothing to learn from.[/red]")
        raise typer.Exit(1)
    if cutoff == "all":
        cutoff_ms = max_time(tables)
    else:
        try:
            cutoff_ms = parse_time(cutoff)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--cutoff") from exc
        if cutoff_ms is None:
            cutoff_ms = default_cutoff(tables)
    config = TrainConfig(epochs=epochs, hidden=hidden, seed=seed)
    ranker = GNNRanker(config)
    catalog = Catalog.from_tables(tables)
    with console.status("Training ...") as status:

        def show(point: dict[str, float]) -> None:
            status.update(
                f"Training: epoch {point['epoch']:.0f}/{epochs}, loss {point['loss']:.3f}, "
                f"validation nDCG@10 {point['val_ndcg@10']:.4f}"
            )
            console.print(
                f"epoch {point['epoch']:>3.0f}  loss {point['loss']:.4f}  "
                f"val nDCG@10 {point['val_ndcg@10']:.4f}",
                highlight=False,
            )

        ranker.fit(truncate(tables, cutoff_ms), catalog, cutoff_ms, on_epoch=show)
    version = ranker.save(folder)
    assert ranker.result is not None
    console.print(
        f"Model {version} saved in {folder} (cutoff {ranker.result.summary()['cutoff_ms']:.0f} ms, "
        f"best validation nDCG@10 {ranker.result.best_val_ndcg:.4f}, "
        f"{ranker.result.seconds:.0f} s)."
    )


def _cypher_candidates(driver: Any, database: str | None) -> Any:
    """The funnel's stage 1: the very Cypher candidates the API serves, replayed at the cutoff."""
    from datetime import UTC, datetime

    from gnn.evaluate import masks_from_sources
    from graph.candidates import candidates_for_many

    def candidate_fn(history: Any, users: Any) -> Any:
        now = datetime.fromtimestamp(history.now_ms / 1000, tz=UTC)
        ids = [str(u) for u in history.catalog.user_ids[users]]
        sets = candidates_for_many(driver, ids, now, database=database)
        return masks_from_sources(
            history.catalog, users, {u: s.by_source() for u, s in sets.items()}
        )

    return candidate_fn


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
    """Add ``train`` and ``evaluate`` to the ``eventgraph`` app."""
    app.command("train")(train_cmd)
    app.command("evaluate")(evaluate_cmd)
