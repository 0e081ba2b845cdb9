"""Latency of stage-1 candidates (``graph.candidates.candidates_for``) on the loaded graph.

Runs against whatever graph the configured server holds (``EVENTGRAPH_NEO4J_URI`` or the local
server from the settings); it only reads. Users are drawn at random from the graph; ``now``
defaults to the latest registration in the graph (live serving: every fact is in the past), or
``--now`` / ``--replay-days`` for a replayed cutoff (popularity counted with the time filter).

    python benchmarks/candidates_latency.py --requests 500 --concurrency 1
    python benchmarks/candidates_latency.py --requests 2000 --concurrency 8   # throughput

Prints a table: p50 / p95 / p99 / max of the end-to-end call (query + transfer + Python
objects) and of the server's own time, the throughput, and what the candidates hold.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from neo4j import Driver, RoutingControl
from rich.console import Console
from rich.table import Table

from graph.candidates import SOURCES, candidate_parameters, candidates_for
from graph.connection import open_driver
from graph.queries import query
from graph.settings import get_settings


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def latest_registration(driver: Driver, database: str | None) -> datetime | None:
    """The newest REGISTERED.at (read from the registered_at range index)."""
    records, _, _ = driver.execute_query(
        "MATCH ()-[r:REGISTERED]->() WHERE r.at IS NOT NULL "
        "RETURN r.at AS at ORDER BY r.at DESC LIMIT 1",
        database_=database,
        routing_=RoutingControl.READ,
    )
    return records[0]["at"].to_native() if records else None


def sample_users(
    driver: Driver, n: int, seed: int, database: str | None
) -> tuple[list[str], list[tuple[float, float]]]:
    """``n`` random user ids (with replacement if the graph has fewer) and some home points."""
    records, _, _ = driver.execute_query(
        "MATCH (u:User) RETURN u.id AS id, u.location.latitude AS lat, u.location.longitude AS lon",
        database_=database,
        routing_=RoutingControl.READ,
    )
    if not records:
        raise SystemExit("The graph has no users: load a dataset first (eventgraph etl load).")
    rng = random.Random(seed)
    ids = [r["id"] for r in records]
    points = [(r["lat"], r["lon"]) for r in records if r["lat"] is not None]
    return [rng.choice(ids) for _ in range(n)], points


def server_ms(driver: Driver, user_id: str, now: datetime, args, database: str | None) -> float:
    """The server's own time for one request (planning excluded, streaming included)."""
    params = candidate_parameters(
        [{"user_id": user_id, "lat": None, "lon": None}],
        now,
        radius_km=args.radius_km,
        horizon_days=args.horizon_days,
        limit=args.limit,
    )
    with driver.session(database=database, default_access_mode="READ") as session:
        summary = session.run(query("candidates"), params).consume()
    return float(summary.result_available_after + summary.result_consumed_after)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="timed calls")
    parser.add_argument("--warmup", type=int, default=30, help="untimed calls first")
    parser.add_argument("--concurrency", type=int, default=1, help="client threads")
    parser.add_argument("--radius-km", type=float, default=25)
    parser.add_argument("--horizon-days", type=float, default=30)
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--newcomers", type=float, default=0.0, help="share of lat/lon requests")
    parser.add_argument("--now", type=datetime.fromisoformat, default=None, help="ISO time")
    parser.add_argument("--replay-days", type=float, default=0.0, help="now = latest - N days")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default=None)
    args = parser.parse_args(argv)
    console = Console()

    settings = get_settings()
    database = args.database or settings.neo4j_database
    driver = open_driver(settings)
    try:
        driver.verify_connectivity()
    except Exception as exc:  # any failure to connect: say where and why, then stop
        console.print(f"[red]Cannot reach Neo4j at {settings.bolt_uri}: {exc}")
        return 2
    with driver:
        now = args.now
        if now is None:
            now = latest_registration(driver, database)
            if now is None:
                console.print("[red]The graph has no registrations: nothing to benchmark.")
                return 2
            now = now + timedelta(seconds=1) - timedelta(days=args.replay_days)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        users, points = sample_users(driver, args.requests + args.warmup, args.seed, database)
        rng = random.Random(args.seed + 1)
        requests = []
        for uid in users:
            if points and rng.random() < args.newcomers:
                lat, lon = rng.choice(points)
                requests.append((None, lat, lon))
            else:
                requests.append((uid, None, None))

        def call(req: tuple[str | None, float | None, float | None]):
            uid, lat, lon = req
            t0 = time.perf_counter()
            cset = candidates_for(
                driver, uid, now, lat=lat, lon=lon, radius_km=args.radius_km,
                horizon_days=args.horizon_days, limit=args.limit, database=database,
            )  # fmt: skip
            return (time.perf_counter() - t0) * 1000.0, cset

        console.print(
            f"[bold]candidates_for[/] on {settings.bolt_uri} (db {database}), "
            f"now={now.isoformat()}, "
            f"radius {args.radius_km} km, horizon {args.horizon_days} d, limit {args.limit}, "
            f"{args.concurrency} thread(s)"
        )
        for req in requests[: args.warmup]:
            call(req)
        timed = requests[args.warmup :]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            results = list(pool.map(call, timed))
        wall = time.perf_counter() - started
        latencies = [ms for ms, _ in results]
        sizes = [len(c) for _, c in results]
        per_source: Counter[str] = Counter()
        known = 0
        for _, cset in results:
            known += cset.known_user
            for cand in cset:
                per_source.update(cand.sources)
        # The server's share, sequentially, on a sample of the same users.
        server = [
            server_ms(driver, uid, now, args, database)
            for uid, _, _ in timed[: min(len(timed), 200)]
            if uid is not None
        ]

        table = Table(title="stage-1 candidates latency (ms)")
        for col in ("measure", "n", "p50", "p95", "p99", "max", "mean"):
            table.add_column(col, justify="right" if col != "measure" else "left")
        for name, values in (("end to end", latencies), ("server", server)):
            if values:
                table.add_row(
                    name, str(len(values)),
                    *(f"{_percentile(values, q):.1f}" for q in (0.5, 0.95, 0.99, 1.0)),
                    f"{statistics.fmean(values):.1f}",
                )  # fmt: skip
        console.print(table)
        console.print(
            f"throughput {len(timed) / wall:.0f} req/s over {wall:.1f} s; "
            f"known users {known}/{len(timed)}; candidates per request: mean "
            f"{statistics.fmean(sizes):.0f}, min {min(sizes)}, max {max(sizes)}"
        )
        n = max(len(timed), 1)
        console.print(
            "per source (mean per request): "
            + ", ".join(f"{s} {per_source[s] / n:.1f}" for s in SOURCES)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
