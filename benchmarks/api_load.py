"""Load benchmark of the REST API: ``GET /users/{id}/recommendations?k=10`` under concurrency.

Primary mode: point it at an API that is already running and give it the users to ask for::

    .venv/bin/python benchmarks/api_load.py --url http://127.0.0.1:8000 \\
        --users-file benchmarks/results/cache/synthetic-100000-upcoming/users.csv

Without ``--users-file`` the user ids are read once from Neo4j (``graph/cypher/
benchmark_user_ids.cypher`` through ``graph.connection.open_driver`` and the ``EVENTGRAPH_*``
settings), so they must be the graph the API serves.

What is measured
----------------
* **Closed loop** (``--concurrency 1,8,32,64``): for each level, that many workers, each with its
  own ``httpx.AsyncClient`` holding one keep-alive connection, send one request after another
  for ``--warmup`` seconds (not recorded: connections, caches, JIT) and then ``--duration``
  seconds (recorded). Each request asks for a user drawn uniformly, with a seeded generator, from
  the user ids. Latency is from just before the request is sent until its body has been read.
  Throughput is the recorded requests divided by the time from the start of the recorded window
  to the last recorded response.
* **Open loop** (``--rate 200``, optional; several rates separated by commas): requests are
  *scheduled* at a fixed rate whatever the responses do, over at most ``--max-connections``
  keep-alive connections, and latency is measured from the scheduled send time. A slow response
  therefore delays nobody's measurement (no coordinated omission): if the API cannot keep up,
  queueing shows in the percentiles instead of silently lowering the offered load.
* Every response that is not HTTP 200 with a JSON body holding an ``items`` list counts as an
  error (transport failures and timeouts too, by exception name). Latency percentiles are over
  the successful responses; errors are reported as counts by status and as a rate.
* The ``Server-Timing`` response header, when present (``graph;dur=3.1, features;dur=1.2,
  score;dur=0.8``), is parsed and the median (and p95) of each metric is reported per level,
  so the client-side latency can be split into the API's own stages.
* The client's own CPU use (per cent of one core) is recorded per level: above ~80% the load
  generator, not the API, may be the bottleneck. The machine's load average and CPU count are
  recorded as well: timings on a busy machine are not comparable with a quiet one.

The result is printed as a table and written to ``benchmarks/results/api_load.json``
(``--out``).

Full recipe (100 000 users, ~20 000 upcoming events, ~1 M registrations)
-------------------------------------------------------------------------
From the repository root. A separate local Neo4j home and ports keep the demo graph untouched;
generate the dataset on the day of the run (its ``now`` is today 00:00 UTC and the API's
"upcoming" is the wall clock), or pass the same ``--now`` you serve with::

    # 1. the dataset (several minutes of CPU; benchmarks/results is not committed)
    .venv/bin/eventgraph etl generate --users 100000 --seed 7 --upcoming-events 20000 \\
        --out benchmarks/results/cache/synthetic-100000-upcoming

    # 2. a Neo4j of its own, loaded with it
    export EVENTGRAPH_DATA_DIR=var/bench \\
           EVENTGRAPH_NEO4J_BOLT_PORT=37687 EVENTGRAPH_NEO4J_HTTP_PORT=37474 \\
           EVENTGRAPH_MODEL_DIR=var/bench/model
    .venv/bin/eventgraph neo4j start
    .venv/bin/eventgraph etl load benchmarks/results/cache/synthetic-100000-upcoming

    # 3. a model (the deployed kind: trained on every fact)
    .venv/bin/eventgraph train --out var/bench/model --cutoff all

    # 4. the API (same environment), then wait for GET /ready
    .venv/bin/eventgraph serve --host 127.0.0.1 --port 8000 &

    # 5. the benchmark (it waits for /ready itself, up to --ready-timeout seconds)
    .venv/bin/python benchmarks/api_load.py --url http://127.0.0.1:8000 \\
        --users-file benchmarks/results/cache/synthetic-100000-upcoming/users.csv \\
        --concurrency 1,8,32,64 --duration 20 --rate 200

    .venv/bin/eventgraph neo4j stop      # still with the exported settings

Run the client on other cores than the API where possible (``taskset``): on a small machine the
two compete for CPU, which the client CPU and load-average columns make visible.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "benchmarks" / "results" / "api_load.json"
DEFAULT_PATH = "/users/{user_id}/recommendations"
# Wide enough for the table when the output is a file or a pipe (a terminal keeps its width).
console = Console() if sys.stdout.isatty() else Console(width=160)


# ----------------------------------------------------------------------------- parsing --------
_TIMING_PARAM = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*=\s*(\"[^\"]*\"|[^;,]*)\s*$")


def parse_server_timing(header: str | None) -> dict[str, float]:
    """``Server-Timing`` as {metric: milliseconds}; metrics without ``dur`` are left out.

    ``graph;dur=3.1, features;desc="pair features";dur=1.2`` -> {graph: 3.1, features: 1.2}.
    Several headers joined by commas (as httpx does) parse the same way; a repeated metric
    keeps its first value, like browsers do.
    """
    out: dict[str, float] = {}
    if not header:
        return out
    # Commas inside quoted descriptions must not split metrics.
    for entry in re.split(r",(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", header):
        parts = entry.split(";")
        name = parts[0].strip()
        if not name or name in out:
            continue
        for param in parts[1:]:
            m = _TIMING_PARAM.match(param)
            if m and m.group(1).lower() == "dur":
                with contextlib.suppress(ValueError):
                    out[name] = float(m.group(2).strip('"'))
                break
    return out


def parse_levels(text: str, kind: type = int) -> list:
    """``"1,8,32,64"`` -> [1, 8, 32, 64]; empty or ``none`` -> []."""
    if text.strip().lower() in ("", "none", "0"):
        return []
    values = [kind(v) for v in text.split(",") if v.strip()]
    if any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"levels must be positive: {text}")
    return values


# ----------------------------------------------------------------------------- users ----------
def users_from_file(path: Path) -> list[str]:
    """The ``id`` column of a dataset's users file (``users.csv``/``.parquet``, or its folder)."""
    import pandas as pd

    if path.is_dir():
        found = [
            path / f"users.{ext}" for ext in ("parquet", "csv") if (path / f"users.{ext}").exists()
        ]
        if not found:
            raise SystemExit(f"No users.csv or users.parquet in {path}")
        path = found[0]
    if path.suffix == ".parquet":
        ids = pd.read_parquet(path, columns=["id"])["id"]
    else:
        ids = pd.read_csv(path, usecols=["id"], dtype={"id": str})["id"]
    users = ids.dropna().astype(str).tolist()
    if not users:
        raise SystemExit(f"{path} has no user ids")
    return users


def users_from_graph(limit: int) -> list[str]:
    """User ids from the configured Neo4j, once, through the project's driver."""
    from neo4j import RoutingControl
    from neo4j.exceptions import DriverError, Neo4jError

    from graph.connection import open_driver
    from graph.queries import query
    from graph.settings import get_settings

    settings = get_settings()
    try:
        with open_driver(settings) as driver:
            driver.verify_connectivity()  # fail fast instead of retrying for half a minute
            records, _, _ = driver.execute_query(
                query("benchmark_user_ids"),
                {"limit": limit},
                database_=settings.neo4j_database,
                routing_=RoutingControl.READ,
            )
    except (DriverError, Neo4jError) as exc:
        raise SystemExit(
            f"Cannot read user ids from Neo4j at {settings.bolt_uri} ({exc}); "
            "pass --users-file instead"
        ) from exc
    users = [r["id"] for r in records]
    if not users:
        raise SystemExit(f"The graph at {settings.bolt_uri} has no users: load a dataset first.")
    return users


# ----------------------------------------------------------------------------- requests -------
@dataclass
class Sample:
    """One request: when it was due, how long it took, and what came back."""

    latency_ms: float
    status: str  # "200", "503", ... or the exception name ("ConnectTimeout")
    ok: bool
    timing: dict[str, float]
    items: int
    model_version: str | None
    done: float  # perf_counter at completion
    lag_ms: float = 0.0  # open loop: actual send time - scheduled send time


@dataclass
class Target:
    url: str
    path: str
    k: int
    headers: dict[str, str] = field(default_factory=dict)

    def request_url(self, user_id: str) -> str:
        return self.url.rstrip("/") + self.path.format(user_id=quote(user_id, safe=""))


async def send(client: httpx.AsyncClient, target: Target, user_id: str, t0: float) -> Sample:
    """One GET; latency counted from ``t0`` (send time, or the scheduled time when open-loop)
    to the end of the body (httpx reads it before returning); checking it is not timed."""
    sent = time.perf_counter()
    try:
        response = await client.get(target.request_url(user_id), params={"k": target.k})
    except httpx.HTTPError as exc:
        done = time.perf_counter()
        return Sample(
            (done - t0) * 1000.0, type(exc).__name__, False, {}, 0, None, done, (sent - t0) * 1000.0
        )
    done = time.perf_counter()
    status, ok, items, version = str(response.status_code), False, 0, None
    if response.status_code == 200:
        try:
            body = response.json()
        except ValueError:
            body = None
            status = "200 (not JSON)"
        if body is not None:
            ok = isinstance(body, dict) and isinstance(body.get("items"), list)
            if not ok:
                status = "200 (no items list)"
            elif body.get("user_id") not in (None, user_id):
                ok, status = False, "200 (other user_id)"
            else:
                items = len(body["items"])
                version = body.get("model_version")
    return Sample(
        (done - t0) * 1000.0,
        status,
        ok,
        parse_server_timing(response.headers.get("server-timing")),
        items,
        None if version is None else str(version),
        done,
        (sent - t0) * 1000.0,
    )


def _client(target: Target, connections: int, timeout_s: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        headers=target.headers,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        timeout=httpx.Timeout(timeout_s, pool=None),
    )


async def closed_level(
    target: Target,
    users: Sequence[str],
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    seed: int,
    timeout_s: float,
) -> tuple[list[Sample], float, float]:
    """``concurrency`` workers, one connection each, back to back; recorded after the warm-up.

    Returns the recorded samples, the start of the recorded window and the last completion.
    """
    start = time.perf_counter()
    measure_from = start + warmup_s
    stop_at = measure_from + duration_s
    recorded: list[Sample] = []

    async def worker(i: int) -> None:
        rng = random.Random(seed * 1_000_003 + concurrency * 1_009 + i)
        async with _client(target, 1, timeout_s) as client:
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    return
                sample = await send(client, target, users[rng.randrange(len(users))], t0)
                if t0 >= measure_from:
                    recorded.append(sample)

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    last = max((s.done for s in recorded), default=stop_at)
    return recorded, measure_from, last


async def open_level(
    target: Target,
    users: Sequence[str],
    rate: float,
    warmup_s: float,
    duration_s: float,
    seed: int,
    timeout_s: float,
    connections: int,
) -> tuple[list[Sample], float, float]:
    """Requests due every 1/rate seconds whatever the responses do; latency from the due time."""
    rng = random.Random(seed * 1_000_003 + int(rate * 1000))
    n_warm = round(warmup_s * rate)
    n_total = n_warm + round(duration_s * rate)
    recorded: list[Sample] = []
    async with _client(target, connections, timeout_s) as client:
        start = time.perf_counter() + 0.05
        measure_from = start + n_warm / rate

        async def fire(due: float, user_id: str, keep: bool) -> None:
            sample = await send(client, target, user_id, due)
            if keep:
                recorded.append(sample)

        tasks = []
        for i in range(n_total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            user_id = users[rng.randrange(len(users))]
            tasks.append(asyncio.create_task(fire(due, user_id, i >= n_warm)))
        await asyncio.gather(*tasks)
    last = max((s.done for s in recorded), default=measure_from)
    return recorded, measure_from, last


# ----------------------------------------------------------------------------- summary --------
def _pct(values: np.ndarray, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values.size else None


def summarise(
    mode: str,
    level: float,
    samples: list[Sample],
    measure_from: float,
    last: float,
    cpu_s: float,
    wall_s: float,
    load_before: Sequence[float],
    duration_s: float,
) -> dict[str, Any]:
    ok = [s for s in samples if s.ok]
    lat = np.array([s.latency_ms for s in ok], dtype=np.float64)
    statuses = Counter(s.status for s in samples)
    metrics: dict[str, list[float]] = {}
    for s in ok:
        for name, dur in s.timing.items():
            metrics.setdefault(name, []).append(dur)
    elapsed = max(last - measure_from, 1e-9)
    row: dict[str, Any] = {
        "mode": mode,
        "concurrency" if mode == "closed" else "rate_per_s": level,
        "duration_s": duration_s,
        "requests": len(samples),
        "ok": len(ok),
        "errors": len(samples) - len(ok),
        "error_rate": round((len(samples) - len(ok)) / len(samples), 5) if samples else None,
        "status_counts": dict(sorted(statuses.items())),
        "requests_per_s": round(len(samples) / elapsed, 2),
        "ok_per_s": round(len(ok) / elapsed, 2),
        "latency_ms": {
            "p50": _pct(lat, 50),
            "p95": _pct(lat, 95),
            "p99": _pct(lat, 99),
            "max": round(float(lat.max()), 3) if lat.size else None,
            "mean": round(float(lat.mean()), 3) if lat.size else None,
        },
        "server_timing_ms": {
            name: {
                "median": _pct(np.array(v), 50),
                "p95": _pct(np.array(v), 95),
                "share_of_responses": round(len(v) / len(ok), 4),
            }
            for name, v in sorted(metrics.items())
        },
        "items_per_response_mean": round(float(np.mean([s.items for s in ok])), 3) if ok else None,
        "model_versions": sorted({s.model_version for s in ok if s.model_version is not None}),
        "client_cpu_percent": round(100.0 * cpu_s / max(wall_s, 1e-9), 1),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    if mode == "open":
        lag = np.array([s.lag_ms for s in samples], dtype=np.float64)
        row["send_lag_ms"] = {"p50": _pct(lag, 50), "p99": _pct(lag, 99)}
    return row


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def _level(row: dict[str, Any]) -> str:
    if row["mode"] == "closed":
        return f"{row['concurrency']} workers"
    return f"{row['rate_per_s']:g}/s"


def print_table(rows: list[dict[str, Any]], path: str, k: int, url: str) -> None:
    """One row per level: client latency, throughput, errors and the Server-Timing medians."""
    metrics = sorted({name for r in rows for name in r["server_timing_ms"]})
    table = Table(title=f"GET {path}?k={k} on {url}: latency (ms) and throughput")
    for col in ("mode", "level", "requests", "errors", "req/s", "p50", "p95", "p99", "max"):
        table.add_column(col, justify="left" if col == "mode" else "right")
    for name in metrics:
        table.add_column(f"{name}\n(server p50)", justify="right")
    table.add_column("client\nCPU %", justify="right")
    for r in rows:
        lat = r["latency_ms"]
        errors = str(r["errors"]) if not r["errors"] else f"[red]{r['errors']}[/red]"
        timing = [_fmt(r["server_timing_ms"].get(n, {}).get("median")) for n in metrics]
        table.add_row(
            r["mode"],
            _level(r),
            f"{r['requests']:,}",
            errors,
            f"{r['requests_per_s']:.1f}",
            *(_fmt(lat[q]) for q in ("p50", "p95", "p99", "max")),
            *timing,
            f"{r['client_cpu_percent']:.0f}",
        )
    console.print(table)
    for r in rows:
        bad = {code: n for code, n in r["status_counts"].items() if code != "200"}
        if bad:
            console.print(f"[yellow]{r['mode']} {_level(r)}: non-200 or invalid answers {bad}")


# ----------------------------------------------------------------------------- main -----------
async def wait_ready(target: Target, timeout_s: float) -> dict[str, Any]:
    """Poll ``GET /ready`` until it answers 200 (the API has Neo4j and its model)."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    async with httpx.AsyncClient(headers=target.headers, timeout=5.0) as client:
        while True:
            try:
                response = await client.get(target.url.rstrip("/") + "/ready")
                if response.status_code == 200:
                    try:
                        body = response.json()
                    except ValueError:
                        body = response.text[:500]
                    return {"status": 200, "body": body}
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            if time.monotonic() >= deadline:
                raise SystemExit(
                    f"{target.url}/ready did not answer 200 within {timeout_s:g} s ({last})"
                )
            await asyncio.sleep(0.5)


async def preflight(target: Target, users: Sequence[str], timeout_s: float) -> Sample:
    """A few untimed requests: stop early, with the API's answer, if none succeeds."""
    samples = []
    async with _client(target, 1, timeout_s) as client:
        for user_id in list(users[:3]):
            sample = await send(client, target, user_id, time.perf_counter())
            if sample.ok:
                return sample
            samples.append((user_id, sample))
        response = await client.get(target.request_url(users[0]), params={"k": target.k})
    tried = ", ".join(f"{u}: {s.status}" for u, s in samples)
    raise SystemExit(
        f"No successful request ({tried}); last answer: HTTP {response.status_code} "
        f"{response.text[:300]}"
    )


async def run(args: argparse.Namespace, users: list[str], target: Target) -> dict[str, Any]:
    ready = await wait_ready(target, args.ready_timeout)
    first = await preflight(target, users, args.timeout)
    console.print(
        f"[bold]{target.url}[/] ready; {len(users):,} users to draw from; first "
        f"answer {first.items} items, model {first.model_version}, "
        f"Server-Timing {first.timing or 'absent'}"
    )
    rows: list[dict[str, Any]] = []
    plans = [("closed", c) for c in args.concurrency] + [("open", r) for r in args.rate]
    for mode, level in plans:
        console.print(
            f"{mode} loop, {'concurrency' if mode == 'closed' else 'rate'} {level:g}: "
            f"{args.warmup:g} s warm-up + {args.duration:g} s …"
        )
        load_before = os.getloadavg()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if mode == "closed":
            samples, measure_from, last = await closed_level(
                target, users, int(level), args.warmup, args.duration, args.seed, args.timeout
            )
        else:
            samples, measure_from, last = await open_level(
                target,
                users,
                float(level),
                args.warmup,
                args.duration,
                args.seed,
                args.timeout,
                args.max_connections,
            )
        cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
        row = summarise(
            mode, level, samples, measure_from, last, cpu_s, wall_s, load_before, args.duration
        )
        rows.append(row)
        lat = row["latency_ms"]
        console.print(
            f"  {row['requests']:,} requests, {row['errors']} errors, "
            f"{row['requests_per_s']:.1f} req/s, p50 {_fmt(lat['p50'])} ms, "
            f"p99 {_fmt(lat['p99'])} ms"
        )
    return {"ready": ready, "levels": rows}


def plot_levels(levels: list[dict[str, Any]], path: Path) -> Path | None:
    """Latency percentiles and throughput per closed-loop concurrency level, as a PNG."""
    closed = [r for r in levels if r["mode"] == "closed" and r["ok"]]
    if not closed:
        return None
    from matplotlib.figure import Figure

    x = [r["concurrency"] for r in closed]
    fig = Figure(figsize=(9, 3.6))
    ax, ax2 = fig.subplots(1, 2)
    for q, style in (("p50", "o-"), ("p95", "s--"), ("p99", "^:")):
        ax.plot(x, [r["latency_ms"][q] for r in closed], style, label=q)
    ax.axhline(50, color="grey", lw=0.8)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="concurrent clients",
        ylabel="latency (ms)",
        title="latency (line: 50 ms target)",
    )
    ax.set_xticks(x, [str(v) for v in x])
    ax.legend()
    ax2.plot(x, [r["ok_per_s"] for r in closed], "o-")
    ax2.axhline(200, color="grey", lw=0.8)
    ax2.set(
        xscale="log",
        xlabel="concurrent clients",
        ylabel="successful requests / s",
        title="throughput (line: 200/s target)",
    )
    ax2.set_xticks(x, [str(v) for v in x])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the running API")
    parser.add_argument(
        "--users-file",
        type=Path,
        default=None,
        help="users.csv/.parquet (or its dataset folder); default: from Neo4j",
    )
    parser.add_argument(
        "--max-users", type=int, default=1_000_000, help="at most this many ids read from Neo4j"
    )
    parser.add_argument(
        "--concurrency",
        type=parse_levels,
        default=[1, 8, 32, 64],
        help="closed-loop levels, e.g. 1,8,32,64 ('' for none)",
    )
    parser.add_argument(
        "--rate",
        type=lambda s: parse_levels(s, float),
        default=[],
        help="open-loop arrival rates per second, e.g. 200 or 100,200",
    )
    parser.add_argument("--duration", type=float, default=20.0, help="recorded seconds per level")
    parser.add_argument("--warmup", type=float, default=3.0, help="unrecorded seconds per level")
    parser.add_argument("--k", type=int, default=10, help="recommendations per request")
    parser.add_argument("--path", default=DEFAULT_PATH, help="path template with {user_id}")
    parser.add_argument(
        "--max-connections", type=int, default=64, help="open loop: keep-alive connections at most"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request seconds")
    parser.add_argument(
        "--ready-timeout", type=float, default=60.0, help="seconds to wait for GET /ready"
    )
    parser.add_argument(
        "--api-key", default=None, help="sent as X-API-Key (default: EVENTGRAPH_API_KEY if set)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if not args.concurrency and not args.rate:
        parser.error("nothing to run: give --concurrency levels and/or --rate")
    if "{user_id}" not in args.path:
        parser.error("--path needs a {user_id} placeholder")

    api_key = args.api_key or os.environ.get("EVENTGRAPH_API_KEY")
    target = Target(args.url, args.path, args.k, {"X-API-Key": api_key} if api_key else {})
    if args.users_file is not None:
        users, source = users_from_file(args.users_file), str(args.users_file)
    else:
        users, source = users_from_graph(args.max_users), "neo4j"

    started = datetime.now(UTC)
    load_before = os.getloadavg()
    result = asyncio.run(run(args, users, target))
    print_table(result["levels"], args.path, args.k, args.url)

    report = {
        "benchmark": "api_load",
        "time": started.isoformat(timespec="seconds"),
        "url": args.url,
        "request": f"GET {args.path}?k={args.k}",
        "users": {"source": source, "count": len(users), "sampling": "uniform", "seed": args.seed},
        "settings": {
            "concurrency": args.concurrency,
            "rate_per_s": args.rate,
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "timeout_s": args.timeout,
            "max_connections_open_loop": args.max_connections,
            "api_key_sent": bool(api_key),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": list(load_before),
            "load_average_after": list(os.getloadavg()),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "httpx": httpx.__version__,
        },
        "ready": result["ready"],
        "levels": result["levels"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    console.print(f"written to {args.out}")
    plot = plot_levels(result["levels"], args.out.with_suffix(".png"))
    if plot is not None:
        console.print(f"plot: {plot}")
    errors = sum(r["errors"] for r in result["levels"])
    return 1 if errors and errors == sum(r["requests"] for r in result["levels"]) else 0


if __name__ == "__main__":
    sys.exit(main())
