"""GNN training cost: time and memory of full-graph training on a 100 000-user synthetic graph.

Training is full-graph (DESIGN.md: PyG's neighbour samplers need pyg-lib, which PyPI lacks), so
every optimiser step embeds the whole message-passing graph. This measures what that costs:

1. **dataset** — ``etl.synthetic.generate(users, seed, now=fixed)`` as Parquet into a cache folder
   under ``benchmarks/results/cache/`` (gitignored), reused by later runs.
2. **read** — the Parquet files as :class:`graph.export.GraphTables`, the way
   ``tests/test_baselines.py::generated_tables`` reads them (times as float epoch ms). **No
   Neo4j**: this benchmark measures training, not the export (``export_graph`` would give the
   same tables from a loaded server).
3. **history + graph** — the cutoff T (0.8 quantile of going times), the inner training window
   (``supervision_window``: the ``History`` at T_in and the labels in (T_in, T]) and the
   ``HeteroData`` built from it; node and edge counts per type are reported.
4. **one step** — one full-graph forward + backward + optimiser step of
   ``TrainConfig(hidden=16)`` on a batch of ``batch_positives`` positives with ``negatives``
   random negatives each, broken down into pair features, encoder forward, decoder + loss,
   backward, optimiser. The first step is reported apart (allocator warm-up); the rest as a
   median. Also one inference-only embedding of the whole graph (``torch.no_grad``).
5. **training run** — ``gnn.train.train`` for ``--epochs`` epochs (default 3, early stopping
   off), timed per epoch from the epoch callback (epoch 1 includes the setup: window, features,
   validation set, hard-negative pool).

Memory: the process's peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) and, per phase,
the peak RSS sampled every 5 ms from ``/proc/self/statm`` (Linux), which includes torch's tensors;
plus the ``tracemalloc`` peak of one extra (untimed) step, which sees Python and numpy
allocations only (torch's CPU allocator does not report to tracemalloc).

One torch thread (``TrainConfig.threads`` = 1), as the product trains. The machine's load
average is recorded: timings on a busy machine are not comparable with a quiet one.

Usage::

    python benchmarks/train_gnn.py [--users 100000] [--seed 7] [--epochs 3] [--steps 4]
                                   [--hidden 16] [--out benchmarks/results/train_gnn.json]

Prints a table and writes the JSON to ``--out`` (default ``benchmarks/results/train_gnn.json``
for 100 000 users, ``train_gnn-<users>.json`` for other sizes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from etl.synthetic import generate  # noqa: E402
from gnn.data import FeatureEncoder, build_hetero_data  # noqa: E402
from gnn.features import pair_features  # noqa: E402
from gnn.history import Catalog  # noqa: E402
from gnn.split import default_cutoff, supervision_window, truncate  # noqa: E402
from gnn.train import TrainConfig, build_model, train  # noqa: E402
from graph.export import GraphTables  # noqa: E402

console = Console()
RESULTS = ROOT / "benchmarks" / "results"
#: The generator's `now`: fixed, so every run (and every machine) trains on the same graph.
NOW = datetime(2026, 6, 1, tzinfo=UTC)
MiB = 1024 * 1024
_MARKER = "generated.json"


# --- memory ------------------------------------------------------------------------------------
def peak_rss_bytes() -> int:
    """The process's peak resident set size so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class RssSampler:
    """Samples the current RSS from /proc/self/statm in a thread; ``peak()`` since ``reset()``.

    ``ru_maxrss`` only ever grows, so it cannot tell which phase needed the memory; this can.
    Without /proc (not Linux) it reports ``None``.
    """

    def __init__(self, interval_s: float = 0.005) -> None:
        self.interval_s = interval_s
        self.page = os.sysconf("SC_PAGE_SIZE")
        self.available = Path("/proc/self/statm").exists()
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def current(self) -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * self.page

    def _run(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, self.current())
            time.sleep(self.interval_s)

    def start(self) -> RssSampler:
        if self.available:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def reset(self) -> int | None:
        if not self.available:
            return None
        self._peak = self.current()
        return self._peak

    def peak(self) -> int | None:
        if not self.available:
            return None
        self._peak = max(self._peak, self.current())
        return self._peak


class Phases:
    """Wall time and RSS (before, after, peak) of each named phase."""

    def __init__(self, sampler: RssSampler) -> None:
        self.sampler = sampler
        self.rows: dict[str, dict[str, Any]] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[dict[str, Any]]:
        extra: dict[str, Any] = {}
        before = self.sampler.reset()
        console.print(f"[bold]{name}[/bold] ...", highlight=False)
        t0 = time.perf_counter()
        yield extra
        seconds = time.perf_counter() - t0
        peak = self.sampler.peak()
        after = self.sampler.current() if self.sampler.available else None
        self.rows[name] = {
            "seconds": seconds,
            "rss_before_mib": None if before is None else before / MiB,
            "rss_peak_mib": None if peak is None else peak / MiB,
            "rss_after_mib": None if after is None else after / MiB,
            **extra,
        }
        console.print(
            f"  {seconds:.1f} s" + ("" if peak is None else f", peak RSS {peak / MiB:,.0f} MiB"),
            highlight=False,
        )


def code_version() -> dict[str, Any]:
    """The commit measured, and whether the training code differed from it (others may be
    editing the same checkout while a run goes on)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "gnn_dirty": bool(git("status", "--short", "gnn"))}


# --- data ----------------------------------------------------------------------------------------
def dataset_folder(users: int, seed: int) -> Path:
    return RESULTS / "cache" / f"synthetic-{users}-seed{seed}-{NOW:%Y%m%d}"


def ensure_dataset(users: int, seed: int) -> tuple[Path, bool]:
    """The cached Parquet dataset, generated first when missing; (folder, reused)."""
    folder = dataset_folder(users, seed)
    if (folder / _MARKER).exists():
        return folder, True
    summary = generate(users, seed, folder, fmt="parquet", now=NOW, progress=True)
    (folder / _MARKER).write_text(
        json.dumps({"users": users, "seed": seed, "now": NOW.isoformat(), "summary": str(summary)})
    )
    return folder, False


def read_tables(folder: Path) -> GraphTables:
    """The generated Parquet files as the export gives them: times as float epoch ms, NaN where
    absent (as ``tests/test_baselines.py::generated_tables`` reads them)."""
    frames = {}
    for f in fields(GraphTables):
        frame = pd.read_parquet(folder / f"{f.name}.parquet")
        for column in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                ms = frame[column].astype("int64").astype(np.float64)
                frame[column] = ms.where(frame[column].notna(), np.nan)
        frames[f.name] = frame
    return GraphTables(**frames)


# --- the measured step ---------------------------------------------------------------------------
def one_step(model, optimizer, x_dict, edge_index_dict, sup, config, rng) -> dict[str, float]:
    """One full-graph training step as ``gnn.train.train`` does it (random negatives only)."""
    t: dict[str, float] = {}
    n = min(config.batch_positives, len(sup.pos_user))
    idx = rng.choice(len(sup.pos_user), size=n, replace=False)
    pu, pe = sup.pos_user[idx], sup.pos_event[idx]
    negs = rng.choice(sup.open_events, size=(n, config.negatives))
    all_u = np.repeat(pu, 1 + config.negatives)
    all_e = np.concatenate([pe[:, None], negs], axis=1).ravel()

    t0 = time.perf_counter()
    feats = torch.from_numpy(pair_features(sup.history, all_u, all_e))
    t1 = time.perf_counter()
    model.train()
    emb = model.embed(x_dict, edge_index_dict)
    t2 = time.perf_counter()
    logits = model.decode(emb, torch.from_numpy(all_u), torch.from_numpy(all_e), feats)
    loss = torch.nn.functional.cross_entropy(
        logits.view(n, 1 + config.negatives), torch.zeros(n, dtype=torch.long)
    )
    t3 = time.perf_counter()
    optimizer.zero_grad()
    loss.backward()
    t4 = time.perf_counter()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()
    t5 = time.perf_counter()
    t["pair_features_s"] = t1 - t0
    t["encoder_forward_s"] = t2 - t1
    t["decoder_loss_s"] = t3 - t2
    t["backward_s"] = t4 - t3
    t["optimizer_s"] = t5 - t4
    t["total_s"] = t5 - t0
    t["forward_backward_s"] = t4 - t1
    t["pairs"] = float(len(all_u))
    return t


def run(args: argparse.Namespace) -> dict[str, Any]:
    config = TrainConfig(hidden=args.hidden, epochs=args.epochs, seed=args.seed)
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    sampler = RssSampler().start()
    phase = Phases(sampler)
    rss_at_start = sampler.reset()
    result: dict[str, Any] = {
        "benchmark": "train_gnn",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "users": args.users,
        "seed": args.seed,
        "now": NOW.isoformat(),
        "neo4j": "not used: the dataset's Parquet files are read as GraphTables directly",
        "code": code_version(),
        "config": asdict(config),
        # what the imports (torch, PyG, pandas, ...) hold before any data is read
        "rss_at_start_mib": None if rss_at_start is None else rss_at_start / MiB,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_start": list(os.getloadavg()),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
        },
    }

    with phase("dataset") as extra:
        folder, reused = ensure_dataset(args.users, args.seed)
        extra["folder"] = str(folder.relative_to(ROOT) if folder.is_relative_to(ROOT) else folder)
        extra["reused_cache"] = reused
    with phase("read parquet -> GraphTables") as extra:
        tables = read_tables(folder)
        extra["rows"] = tables.row_counts()
    with phase("cutoff, catalog, truncate"):
        cutoff = default_cutoff(tables)
        catalog = Catalog.from_tables(tables)
        known = truncate(tables, cutoff)
    with phase("inner window (History at T_in)") as extra:
        sup = supervision_window(known, catalog, cutoff, config.inner_quantile)
        extra["training_positives"] = len(sup.pos_user)
        extra["training_users"] = len(sup.users)
        extra["open_events_at_t_in"] = len(sup.open_events)
    with phase("features + HeteroData") as extra:
        encoder = FeatureEncoder.fit(catalog, seed=config.seed)
        data = build_hetero_data(sup.history, encoder)
        nodes = {t: int(data[t].num_nodes) for t in data.node_types}
        edges = {"__".join(t): int(data[t].edge_index.size(1)) for t in data.edge_types}
        extra["nodes"] = nodes
        extra["edges"] = edges
    graph = {
        "nodes": nodes,
        "edges": edges,
        "total_nodes": sum(nodes.values()),
        "total_edges": sum(edges.values()),
        "edge_types": len(edges),
        "input_feature_bytes_mib": sum(data[t].x.numel() * 4 for t in data.node_types) / MiB,
        "edge_index_bytes_mib": sum(e * 2 * 8 for e in edges.values()) / MiB,
    }
    result["graph"] = graph
    result["cutoff_ms"] = cutoff
    result["inner_cutoff_ms"] = sup.inner_cutoff_ms

    x_dict, edge_index_dict = data.x_dict, data.edge_index_dict
    model = build_model(data, config)
    result["parameters"] = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )

    steps: list[dict[str, float]] = []
    with phase(f"{args.steps} full-graph training steps") as extra:
        for _ in range(args.steps):
            steps.append(one_step(model, optimizer, x_dict, edge_index_dict, sup, config, rng))
            console.print(
                f"  step: {steps[-1]['total_s']:.2f} s "
                f"(forward+backward {steps[-1]['forward_backward_s']:.2f} s)",
                highlight=False,
            )
        extra["steps"] = steps
    rest = steps[1:] or steps
    step_summary = {
        key: {"first": steps[0][key], "median_of_rest": statistics.median(s[key] for s in rest)}
        for key in steps[0]
        if key != "pairs"
    }
    step_summary["pairs_per_step"] = steps[0]["pairs"]

    with phase("inference embedding (no_grad)") as extra:
        model.eval()
        with torch.no_grad():
            model.embed(x_dict, edge_index_dict)

    # One more step under tracemalloc, untimed (tracing slows numpy allocations down).
    tracemalloc.start()
    one_step(model, optimizer, x_dict, edge_index_dict, sup, config, rng)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    step_summary["tracemalloc_peak_mib"] = traced_peak / MiB
    result["step"] = step_summary

    del model, optimizer, data, x_dict, edge_index_dict, sup
    curve: list[dict[str, float]] = []
    marks: list[float] = []
    with phase(f"train() for {args.epochs} epochs") as extra:
        started = time.perf_counter()

        def on_epoch(point: dict[str, float]) -> None:
            marks.append(time.perf_counter() - started)
            curve.append(point)
            console.print(
                f"  epoch {point['epoch']:.0f}: {marks[-1]:.0f} s, loss {point['loss']:.4f}, "
                f"val nDCG@10 {point['val_ndcg@10']:.4f}",
                highlight=False,
            )

        # patience = epochs: the run does every epoch asked for, whatever the validation says.
        trained = train(known, catalog, cutoff, replace(config, patience=args.epochs), on_epoch)
        extra["seconds_in_train"] = trained.seconds
    epoch_seconds = np.diff([0.0, *marks]).tolist()
    result["training"] = {
        "epochs": len(curve),
        "seconds": phase.rows[f"train() for {args.epochs} epochs"]["seconds"],
        "epoch_seconds": epoch_seconds,
        "first_epoch_includes_setup": True,
        "mean_later_epoch_s": float(np.mean(epoch_seconds[1:])) if len(epoch_seconds) > 1 else None,
        "curve": curve,
    }
    sampler.stop()
    result["phases"] = phase.rows
    result["peak_rss_mib"] = peak_rss_bytes() / MiB
    result["machine"]["load_average_at_end"] = list(os.getloadavg())
    return result


def show(result: dict[str, Any]) -> None:
    g = result["graph"]
    table = Table(
        "phase", "seconds", "peak RSS MiB", title=f"GNN training, {result['users']:,} users"
    )
    for name, row in result["phases"].items():
        peak = row.get("rss_peak_mib")
        table.add_row(name, f"{row['seconds']:.1f}", "–" if peak is None else f"{peak:,.0f}")
    console.print(table)

    graph = Table("node / edge type", "count", title="message-passing graph at T_in")
    for name, n in g["nodes"].items():
        graph.add_row(f"node {name}", f"{n:,}")
    for name, n in sorted(g["edges"].items(), key=lambda kv: -kv[1]):
        graph.add_row(f"edge {name}", f"{n:,}")
    graph.add_row("total nodes", f"{g['total_nodes']:,}")
    graph.add_row("total edges", f"{g['total_edges']:,}")
    console.print(graph)

    s = result["step"]
    step = Table("part of one step", "first s", "median s", title="one full-graph training step")
    for key in ("pair_features_s", "encoder_forward_s", "decoder_loss_s", "backward_s",
                "optimizer_s", "forward_backward_s", "total_s"):  # fmt: skip
        step.add_row(key[:-2], f"{s[key]['first']:.3f}", f"{s[key]['median_of_rest']:.3f}")
    console.print(step)
    t = result["training"]
    console.print(
        f"pairs per step {s['pairs_per_step']:,.0f}; tracemalloc peak of a step "
        f"(Python + numpy only) {s['tracemalloc_peak_mib']:,.0f} MiB; "
        f"{result['parameters']:,} parameters\n"
        f"train(): {t['epochs']} epochs in {t['seconds']:.0f} s, per epoch "
        + ", ".join(f"{x:.0f}" for x in t["epoch_seconds"])
        + " s (the first includes the setup)\n"
        f"peak RSS of the process {result['peak_rss_mib']:,.0f} MiB; load average at start "
        f"{result['machine']['load_average_at_start'][0]:.1f}, at end "
        f"{result['machine']['load_average_at_end'][0]:.1f} ({result['machine']['cpus']} CPUs)",
        highlight=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100_000, help="synthetic users (100 000)")
    parser.add_argument("--seed", type=int, default=7, help="generator and training seed (7)")
    parser.add_argument("--hidden", type=int, default=16, help="embedding size (16)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the training run (3)")
    parser.add_argument("--steps", type=int, default=4, help="timed single steps (4)")
    parser.add_argument("--out", type=Path, default=None, help="JSON result file")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.steps < 1:
        parser.error("--epochs and --steps must be at least 1")
    out = args.out or RESULTS / (
        "train_gnn.json" if args.users == 100_000 else f"train_gnn-{args.users}.json"
    )
    result = run(args)
    show(result)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=float))
    console.print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
