"""ETL throughput: load the 100 000-user synthetic dataset into a fresh, separate Neo4j.

Three timed runs of :func:`etl.load.load_dataset`, each counted as rows read per second of the
whole call (reading, validating and writing):

1. **bulk** — the folder into the empty database of a fresh local server (its own home in a
   temporary folder, ports 27687/27474): the offline ``neo4j-admin database import`` path.
2. **merge re-run** — the same folder again: the batched MERGE path over the full graph. It must
   change nothing; node/relationship counts and a property fingerprint are compared.
3. **incremental** — a small new slice (new users, events, friendships, registrations that
   reference what is already in the graph) through the MERGE path.

Usage::

    python benchmarks/etl_load.py [--users 100000] [--seed 7] [--data DIR] [--batch-size N]

The dataset is generated with ``etl.synthetic.generate`` into ``--data`` (default
``var/datasets/synthetic-<users>``) unless it is already there. The result is printed and written
to ``benchmarks/results/etl_load-<UTC time>.json``. The machine's load average is recorded with
it: timings on a busy machine are not comparable with a quiet one.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from neo4j import Driver
from pydantic import SecretStr
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from etl.load import LoadReport, load_dataset  # noqa: E402
from graph.connection import open_driver  # noqa: E402
from graph.server import LocalNeo4j  # noqa: E402
from graph.settings import Settings  # noqa: E402
from graph.stats import graph_counts  # noqa: E402

console = Console()
BOLT_PORT, HTTP_PORT = 27687, 27474

# Aggregates over every property the loader writes: equal fingerprints, equal graphs (for the
# purpose of "a re-run changed nothing"; the tests compare graphs property by property).
_FINGERPRINT = {
    "User": "MATCH (n:User) RETURN count(n) AS n, sum(n.location.latitude + n.location.longitude)"
    " AS a, sum(coalesce(n.birth_year, 0)) AS b, sum(coalesce(n.joined_at.epochSeconds, 0)) AS c,"
    " sum(size(coalesce(n.name, '') + coalesce(n.gender, '') + coalesce(n.city, ''))) AS d",
    "Event": "MATCH (n:Event) RETURN count(n) AS n, sum(n.location.latitude) AS a,"
    " sum(n.start_time.epochSeconds + coalesce(n.end_time.epochSeconds, 0)) AS b,"
    " sum(coalesce(n.price, 0) + coalesce(n.capacity, 0)) AS c,"
    " sum(size(coalesce(n.tags, [])) + size(coalesce(n.title, ''))) AS d",
    "City": "MATCH (n:City) RETURN count(n) AS n, sum(n.location.latitude) AS a,"
    " sum(n.location.longitude) AS b, 0 AS c, 0 AS d",
    "REGISTERED": "MATCH ()-[r:REGISTERED]->() RETURN count(r) AS n, sum(r.at.epochSeconds) AS a,"
    " sum(size(r.status)) AS b, 0 AS c, 0 AS d",
    "FRIENDS_WITH": "MATCH (a)-[r:FRIENDS_WITH]->(b) RETURN count(r) AS n,"
    " sum(coalesce(r.since.epochSeconds, 0)) AS a, sum(size(a.id)) AS b, 0 AS c, 0 AS d",
    "VIEWED": "MATCH ()-[r:VIEWED]->() RETURN count(r) AS n, sum(r.at.epochSeconds) AS a,"
    " sum(r.count) AS b, 0 AS c, 0 AS d",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None, help="dataset folder (reused)")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--pagecache", default="2g")
    parser.add_argument("--keep-server", action="store_true", help="leave the server running")
    args = parser.parse_args()
    # graph_counts asks for SAVED too, which the loader never writes: not worth a warning.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)

    data = args.data or ROOT / "var" / "datasets" / f"synthetic-{args.users}"
    dataset_rows = ensure_dataset(data, args.users, args.seed)
    settings = Settings()
    home = Path(tempfile.mkdtemp(prefix="eventgraph-bench-")) / "neo4j"
    password = secrets.token_urlsafe(12)
    server = LocalNeo4j(
        home,
        settings.cache_dir,
        version=settings.neo4j_version,
        browser_version=settings.neo4j_browser_version,
        bolt_port=BOLT_PORT,
        http_port=HTTP_PORT,
        user="neo4j",
        password=password,
        heap=args.heap,
        pagecache=args.pagecache,
    )
    load_before = os.getloadavg()
    console.print(f"Starting a fresh Neo4j in {home} (bolt {BOLT_PORT}) ...")
    server.start(timeout=300)
    bench = settings.model_copy(
        update={
            "neo4j_uri": server.bolt_uri,
            "neo4j_password": SecretStr(password),
            "data_dir": home.parent,
        }
    )
    runs: list[dict[str, Any]] = []
    try:
        with open_driver(bench) as driver:
            bulk = timed_load("bulk (empty database)", data, driver, server, args.batch_size)
            runs.append(bulk)
            counts_after_bulk = graph_counts(driver)
            fingerprint_after_bulk = fingerprint(driver)

            rerun = timed_load("merge (re-run, full graph)", data, driver, server, args.batch_size)
            unchanged = (
                graph_counts(driver) == counts_after_bulk
                and fingerprint(driver) == fingerprint_after_bulk
            )
            rerun["unchanged"] = unchanged
            runs.append(rerun)

            slice_dir = home.parent / "incremental"
            write_incremental_slice(data, slice_dir, seed=args.seed)
            runs.append(
                timed_load("merge (incremental slice)", slice_dir, driver, server, args.batch_size)
            )
            final_counts = graph_counts(driver)
    finally:
        if not args.keep_server:
            server.stop()
            shutil.rmtree(home.parent, ignore_errors=True)
    load_after = os.getloadavg()

    result = {
        "benchmark": "etl_load",
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": load_after,
            "neo4j": settings.neo4j_version,
            "heap": args.heap,
            "pagecache": args.pagecache,
        },
        "dataset": {
            "folder": str(data),
            "users": args.users,
            "seed": args.seed,
            "rows": dataset_rows,
        },
        "batch_size": args.batch_size,
        "runs": runs,
        "rerun_changed_nothing": runs[1]["unchanged"],
        "graph": {"nodes": final_counts[0], "relationships": final_counts[1]},
        "target_rows_per_s": 50_000,
    }
    show(result)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"etl_load-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    console.print(f"Result written to {path}")
    if not runs[1]["unchanged"]:
        console.print("[red]The re-run changed the graph.[/red]")
        raise SystemExit(1)


def ensure_dataset(folder: Path, users: int, seed: int) -> dict[str, int]:
    if not (folder / "users.csv").exists() and not (folder / "users.parquet").exists():
        from etl.synthetic import generate

        console.print(f"Generating {users:,} users (seed {seed}) into {folder} ...")
        generate(users, seed, folder, fmt="csv", progress=True)
    rows = {}
    for path in sorted(folder.glob("*.csv")):
        with path.open("rb") as fh:
            rows[path.stem] = sum(1 for _ in fh) - 1  # no multi-line fields in synthetic data
    return rows


def timed_load(
    name: str, folder: Path, driver: Driver, server: LocalNeo4j, batch_size: int
) -> dict[str, Any]:
    console.rule(name)
    report: LoadReport = load_dataset(
        folder, driver, server=server, batch_size=batch_size, progress=True, console=console
    )
    console.print(
        f"{name}: {report.path} path, {report.rows_read:,} rows in {report.seconds:.1f} s = "
        f"[bold]{report.rows_per_s:,.0f} rows/s[/bold]"
    )
    return {"name": name, **report.to_dict()}


def fingerprint(driver: Driver) -> dict[str, list[float]]:
    out = {}
    for name, cypher in _FINGERPRINT.items():
        records, _, _ = driver.execute_query(cypher)
        row = records[0]
        out[name] = [round(float(row[k] or 0), 6) for k in ("n", "a", "b", "c", "d")]
    return out


def write_incremental_slice(data: Path, folder: Path, *, seed: int, n_users: int = 1_000) -> None:
    """New users and events that link to what the graph already has (users, events, hosts)."""
    rng = np.random.default_rng(seed + 1)
    folder.mkdir(parents=True, exist_ok=True)
    users = pd.read_csv(data / "users.csv", dtype=str, keep_default_na=False)
    events = pd.read_csv(data / "events.csv", dtype=str, keep_default_na=False)
    new_users = users.sample(n_users, random_state=seed).copy()
    new_users["id"] = [f"inc-u{i:05d}" for i in range(n_users)]
    new_users.to_csv(folder / "users.csv", index=False)
    new_events = events.sample(n_users // 10, random_state=seed).copy()
    new_events["id"] = [f"inc-e{i:05d}" for i in range(len(new_events))]
    new_events.to_csv(folder / "events.csv", index=False)
    n = n_users * 5
    old_users = users["id"].to_numpy()
    old_events = events["id"].to_numpy()
    at = "2026-01-15T12:00:00+00:00"
    registrations = pd.DataFrame(
        {
            "user_id": np.r_[rng.choice(new_users["id"], n // 2), rng.choice(old_users, n // 2)],
            "event_id": np.r_[rng.choice(old_events, n // 2), rng.choice(new_events["id"], n // 2)],
            "at": at,
            "status": rng.choice(["going", "maybe", "watching"], n),
        }
    ).drop_duplicates(["user_id", "event_id"])
    registrations.to_csv(folder / "registrations.csv", index=False)
    friendships = pd.DataFrame(
        {
            "user_id": rng.choice(new_users["id"], n_users * 2),
            "friend_id": rng.choice(old_users, n_users * 2),
            "since": at,
        }
    ).drop_duplicates(["user_id", "friend_id"])
    friendships.to_csv(folder / "friendships.csv", index=False)
    views = registrations.assign(count=1)[["user_id", "event_id", "at", "count"]]
    views.to_csv(folder / "views.csv", index=False)


def show(result: dict[str, Any]) -> None:
    table = Table("run", "path", "rows", "seconds", "rows/s", title="ETL load benchmark")
    for run in result["runs"]:
        table.add_row(
            run["name"],
            run["path"],
            f"{run['rows_read']:,}",
            f"{run['seconds']:.1f}",
            f"{run['rows_per_s']:,.0f}",
        )
    console.print(table)
    bulk = result["runs"][0]
    console.print("bulk phases: " + ", ".join(f"{k} {v:.1f}s" for k, v in bulk["phases"].items()))
    console.print(
        f"re-run changed nothing: {result['rerun_changed_nothing']}; machine: "
        f"{result['machine']['cpus']} CPUs, load average before "
        f"{result['machine']['load_average_before'][0]:.1f}"
    )


if __name__ == "__main__":
    main()
