"""GNN ranking quality against the baselines, without Neo4j: synthetic graph and Meetup Chicago.

Reads a dataset folder (the ETL contract's files, CSV or Parquet) through the validator, the way
the loader would write it into Neo4j and ``graph.export`` would give it back (times as float epoch
ms, tags as lists, only events with a host), then runs ``gnn.evaluate.evaluate``: the temporal
hold-out, full ranking, model view. The GNN is trained from scratch with the given
``TrainConfig`` overrides; the oracle is added when the dataset has a planted ``truth/``.

Usage::

    python benchmarks/gnn_quality.py --dataset var/datasets/synthetic-10000 \
        [--models lightgbm,oracle] [--set hidden=16 --set lr=3e-3 ...] [--out report.json]
    python benchmarks/gnn_quality.py --meetup ../shared/data/meetup-chicago [--models lightgbm]

Prints nDCG@10 (and the other metrics) per model; ``--out`` writes the report as JSON.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gnn.evaluate import evaluate, load_truth  # noqa: E402
from gnn.model_ranker import GNNRanker  # noqa: E402
from gnn.train import TrainConfig  # noqa: E402
from graph.export import GraphTables  # noqa: E402

warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)

_TIME_COLUMNS = {"joined_at", "start_time", "end_time", "created_at", "since", "at"}
#: The columns ``graph.export`` returns per table (the graph does not keep the others).
_EXPORT_COLUMNS = {
    "users": ["id", "birth_year", "gender", "locale", "city", "lat", "lon", "joined_at"],
    "events": [
        "id",
        "host_id",
        "title",
        "description",
        "category",
        "tags",
        "start_time",
        "end_time",
        "price",
        "currency",
        "capacity",
        "lat",
        "lon",
        "city",
        "country",
        "created_at",
    ],
    "hosts": ["id", "name", "kind", "user_id"],
    "friendships": ["user_id", "friend_id", "since"],
    "registrations": ["user_id", "event_id", "at", "status"],
    "invitations": ["user_id", "event_id", "at", "by_user_id"],
    "views": ["user_id", "event_id", "at", "count"],
    "follows": ["user_id", "host_id", "at"],
    "ratings": ["user_id", "event_id", "stars", "at"],
}


def read_dataset(folder: Path) -> GraphTables:
    """The dataset's clean rows as the export would return them after a load."""
    from etl.validate import validate_dataset

    dataset = validate_dataset(folder)
    frames: dict[str, pd.DataFrame] = {}
    for f in fields(GraphTables):
        frame = dataset.clean(f.name).copy()
        for column in _EXPORT_COLUMNS[f.name]:
            if column not in frame:
                frame[column] = None
        frame = frame[_EXPORT_COLUMNS[f.name]]
        for column in frame.columns:
            if column in _TIME_COLUMNS:
                ts = pd.to_datetime(frame[column], utc=True, format="ISO8601")
                ms = ts.astype("int64").astype(np.float64) / 1e6
                frame[column] = ms.where(ts.notna(), np.nan)
            elif isinstance(frame[column].dtype, pd.Int64Dtype):
                frame[column] = frame[column].astype("float64")
        if f.name == "events":
            frame["tags"] = frame["tags"].map(
                lambda t: [x for x in t.split("|") if x] if isinstance(t, str) else None
            )
            frame = frame[frame["host_id"].notna()]
        frames[f.name] = frame.reset_index(drop=True)
    return GraphTables(**frames)


def _cached(cache: Path | None, build: Callable[[], GraphTables]) -> GraphTables:
    """``build()``, or the tables pickled in ``cache`` by an earlier run."""
    if cache is not None and cache.exists():
        with cache.open("rb") as fh:
            return pickle.load(fh)
    tables = build()
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        with cache.open("wb") as fh:
            pickle.dump(tables, fh)
    return tables


def cached_tables(folder: Path, cache: Path | None) -> GraphTables:
    return _cached(cache, lambda: read_dataset(folder))


def meetup_tables(source: Path, cache: Path | None) -> GraphTables:
    def build() -> GraphTables:
        from etl.importers.meetup import convert_meetup

        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "meetup-chicago"
            convert_meetup(source, "chicago", out)
            return read_dataset(out)

    return _cached(cache, build)


def _value(text: str) -> Any:
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if text in ("True", "False"):
        return text == "True"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", type=Path, help="a dataset folder (synthetic: with truth/)")
    source.add_argument("--meetup", type=Path, help="a Meetup crawl folder (rsvp_chicago.csv)")
    parser.add_argument("--models", default="", help="comma-separated baselines to run too")
    parser.add_argument("--no-gnn", action="store_true")
    parser.add_argument("--set", action="append", default=[], help="TrainConfig field=value")
    parser.add_argument("--cache", type=Path, help="pickle of the tables (read once, reused)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    if args.dataset is not None:
        tables = cached_tables(args.dataset, args.cache)
        truth_dir = args.dataset / "truth"
    else:
        tables = meetup_tables(args.meetup, args.cache)
        truth_dir = None
    overrides = {k: _value(v) for k, v in (s.split("=", 1) for s in args.set)}
    config = TrainConfig(**overrides)
    rankers: list[Any] = [m for m in args.models.split(",") if m]
    truth = None
    if "oracle" in rankers:
        if truth_dir is not None and truth_dir.exists():
            truth = load_truth(truth_dir)
        else:
            rankers.remove("oracle")
    gnn = None
    if not args.no_gnn:
        gnn = GNNRanker(config)
        rankers.append(gnn)

    def on_epoch(point: dict[str, float]) -> None:
        print(f"  epoch {point['epoch']:3.0f} loss {point['loss']:.4f} "
              f"val nDCG@10 {point['val_ndcg@10']:.4f}", flush=True)  # fmt: skip

    if gnn is not None:
        fit = gnn.fit
        gnn.fit = lambda t, c, cut: fit(t, c, cut, on_epoch=on_epoch)  # type: ignore[method-assign]
    started = time.perf_counter()
    report = evaluate(tables, None, rankers=rankers, truth=truth)
    print(f"config: {overrides}")
    for name, m in report["models"].items():
        print(
            f"{name:12s} nDCG@10 {m['ndcg@10']:.4f}  "
            f"recall@10 {m.get('recall@10', float('nan')):.4f}"
        )
    if gnn is not None and gnn.result is not None:
        print(f"gnn: {len(gnn.result.curve)} epochs, best val {gnn.result.best_val_ndcg:.4f}, "
              f"{gnn.result.seconds:.0f} s training")  # fmt: skip
    print(f"total {time.perf_counter() - started:.0f} s")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        summary = {
            "config": overrides,
            "ndcg@10": {n: m["ndcg@10"] for n, m in report["models"].items()},
            "report": report,
        }
        args.out.write_text(json.dumps(summary, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
