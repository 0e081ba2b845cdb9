"""`generate()`: build a synthetic eventgraph dataset with planted truth, end to end.

The world is drawn in four steps, each with its own random stream spawned from the seed (so a
change in a later step never reshuffles an earlier one): population and friendships, hosts and
events, the day-by-day registration process, and the output files. Same (n_users, seed, now)
gives byte-identical files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa

from etl.synthetic import vocab
from etl.synthetic.catalog import Catalog, build_catalog
from etl.synthetic.choice_model import ChoiceParams
from etl.synthetic.geo import METROS
from etl.synthetic.output import Format, optional_strings, write_table
from etl.synthetic.population import Population, build_population
from etl.synthetic.simulate import STATUS_NAMES, Activity, DecisionLog, Simulation
from etl.synthetic.truth import TIME_COLUMNS, write_truth

FILE_NAMES: tuple[str, ...] = ("users", "hosts", "events", "friendships", "registrations",
                               "invitations", "views", "follows", "ratings")
MIN_USERS = 10


@dataclass(frozen=True)
class GenerationSummary:
    """What `generate` wrote: rows per file, the `now` it used, and how long it took."""

    out: Path
    fmt: str
    n_users: int
    seed: int
    now: datetime
    rows: dict[str, int]
    elapsed_s: float
    files: dict[str, Path] = field(default_factory=dict)
    #: Events starting after `now` (counted whether or not `upcoming_events` was asked for).
    upcoming: int = 0

    def __str__(self) -> str:
        counts = ", ".join(f"{k} {v:,}" for k, v in self.rows.items())
        return (f"{self.n_users:,} users (seed {self.seed}, now {self.now.isoformat()}) -> "
                f"{self.out} [{self.fmt}] in {self.elapsed_s:.1f} s: {counts}")


def default_now() -> datetime:
    """Today at 00:00 UTC: demo data is "live" (its upcoming events are really upcoming)."""
    today = datetime.now(UTC).date()
    return datetime(today.year, today.month, today.day, tzinfo=UTC)


def _normalise_now(now: datetime | None) -> datetime:
    if now is None:
        return default_now()
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(UTC).replace(microsecond=0)


class _Progress:
    """rich progress bars when asked for, silence otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress = None

    @contextmanager
    def running(self) -> Iterator[_Progress]:
        if not self.enabled:
            yield self
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn()) as progress:
            self._progress = progress
            yield self
        self._progress = None

    def task(self, description: str, total: int) -> Callable[[int], None]:
        if self._progress is None:
            return lambda _done: None
        progress = self._progress
        task_id = progress.add_task(description, total=total)

        def update(done: int) -> None:
            progress.update(task_id, completed=done)

        return update


def generate(n_users: int, seed: int, out: Path,
             fmt: Literal["csv", "parquet"] = "csv", now: datetime | None = None,
             progress: bool = True, upcoming_events: int | None = None) -> GenerationSummary:
    """Generate a synthetic dataset of `n_users` users into `out`, plus `out/truth/`.

    Files follow the ETL contract (DESIGN.md, "The input format"): users, hosts, events,
    friendships, registrations, invitations, views, follows, ratings, as CSV or Parquet. `now`
    (default: today 00:00 UTC) ends the history: about 18 months of past events and registrations
    before it, and events announced for the next two months with the registrations made so far.
    Other-format files of the same names in `out` are removed so the folder is one dataset.

    `upcoming_events` (default: off, the natural ~7% of events) asks for at least that many
    events starting after `now`, for serving benchmarks that need a large upcoming catalogue:
    the missing ones are drawn like the rest and simulated with everything else (see
    `catalog.build_catalog`). Same (n_users, seed, now, upcoming_events), same files.
    """
    summary, _ = run_generation(n_users, seed, Path(out), fmt, now, progress,
                                upcoming_events=upcoming_events)
    return summary


def run_generation(n_users: int, seed: int, out: Path, fmt: Format = "csv",
                   now: datetime | None = None, progress: bool = False,
                   params: ChoiceParams | None = None, decision_log_rate: float = 0.0,
                   upcoming_events: int | None = None
                   ) -> tuple[GenerationSummary, DecisionLog | None]:
    """`generate` with the knobs tests need: custom parameters and a decision log sample.

    The decision log draws from its own random stream, so turning it on does not change the
    output files.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be 'csv' or 'parquet', not {fmt!r}")
    if n_users < MIN_USERS:
        raise ValueError(f"n_users must be at least {MIN_USERS}, got {n_users}")
    if upcoming_events is not None and upcoming_events < 0:
        raise ValueError(f"upcoming_events must be >= 0, got {upcoming_events}")
    params = params or ChoiceParams()
    started = time.perf_counter()
    now_dt = _normalise_now(now)
    now_s = int(now_dt.timestamp())
    out.mkdir(parents=True, exist_ok=True)
    # Children 0-4 are the same whatever the count, so the sixth stream changes nothing else.
    seeds = np.random.SeedSequence(seed).spawn(6)
    rng_pop, rng_cat, rng_sim, rng_salt, rng_log, rng_up = (
        np.random.default_rng(s) for s in seeds)
    log = DecisionLog() if decision_log_rate > 0 else None

    bars = _Progress(progress)
    with bars.running():
        step = bars.task("people & friendships", 1)
        pop = build_population(rng_pop, n_users, now_s, now_dt.year)
        step(1)
        step = bars.task("hosts & events", 1)
        cat = build_catalog(rng_cat, pop, now_s, params.comp_ref_per_week, params.a_comp,
                            upcoming_events=upcoming_events, rng_upcoming=rng_up)
        step(1)
        sim = Simulation(rng_sim, pop, cat, params, now_s,
                         salt=int(rng_salt.integers(0, 2**63 - 1)), log=log,
                         log_rng=rng_log, log_rate=decision_log_rate)
        sim.organic_follows()
        total_days = sim.last_day - sim.first_day + 1
        day_bar = bars.task("simulating days", total_days)
        activity = sim.run(lambda done, _total: day_bar(done) if done % 7 == 0 or
                           done == _total else None)
        tables = _tables(pop, cat, activity)
        write_bar = bars.task("writing files", len(tables) + 1)
        _remove_stale(out)
        files: dict[str, Path] = {}
        for i, (name, table) in enumerate(tables.items()):
            files[name] = write_table(table, out, name, fmt, TIME_COLUMNS[name])
            write_bar(i + 1)
        write_truth(out, pop=pop, cat=cat, params=params, seed=seed, now=now_dt,
                    n_users=n_users, upcoming_events=upcoming_events)
        write_bar(len(tables) + 1)
    summary = GenerationSummary(
        out=out, fmt=fmt, n_users=n_users, seed=seed, now=now_dt,
        rows={name: t.num_rows for name, t in tables.items()},
        elapsed_s=time.perf_counter() - started, files=files,
        upcoming=int((cat.start > now_s).sum()))
    return summary, log


def _remove_stale(out: Path) -> None:
    for name in FILE_NAMES:
        for ext in ("csv", "parquet"):
            path = out / f"{name}.{ext}"
            if path.exists():
                path.unlink()


def _round(x: np.ndarray, digits: int) -> np.ndarray:
    return np.round(np.asarray(x, dtype=np.float64), digits)


def _tables(pop: Population, cat: Catalog, act: Activity) -> dict[str, pa.Table]:
    """The contract tables (times still epoch seconds; `write_table` formats them)."""
    uid = pa.array(pop.ids, pa.string())
    hid = pa.array(cat.host_ids, pa.string())
    eid = pa.array(cat.event_ids, pa.string())
    city = np.array([m.name for m in METROS], dtype=object)
    country = np.array([m.country for m in METROS], dtype=object)

    def take(ids: pa.Array, rows: np.ndarray) -> pa.Array:
        return ids.take(pa.array(np.asarray(rows, dtype=np.int64)))

    users = pa.table({
        "id": uid, "name": pa.array(pop.name, pa.string()),
        "birth_year": pa.array(pop.birth_year, pa.int64()),
        "gender": optional_strings(pop.gender), "locale": pa.array(pop.locale, pa.string()),
        "city": pa.array(city[pop.metro], pa.string()),
        "lat": _round(pop.lat, 6), "lon": _round(pop.lon, 6), "joined_at": pop.joined_at,
    })
    runner = cat.host_user
    hosts = pa.table({
        "id": hid, "name": pa.array(cat.host_name, pa.string()),
        "kind": pa.array(cat.host_kind, pa.string()),
        "user_id": pa.array(np.where(runner >= 0, pop.ids[np.maximum(runner, 0)], None),
                            pa.string()),
    })
    capacity = pa.array(np.nan_to_num(cat.capacity, nan=0).astype(np.int64),
                        mask=np.isnan(cat.capacity))
    events = pa.table({
        "id": eid, "host_id": take(hid, cat.event_host),
        "title": pa.array(cat.title, pa.string()),
        "description": pa.array(cat.description, pa.string()),
        "category": pa.array(np.array(vocab.CATEGORY_NAMES, dtype=object)[cat.category],
                             pa.string()),
        "tags": pa.array(cat.tags, pa.string()),
        "start_time": cat.start, "end_time": cat.end,
        "price": _round(cat.price, 2), "currency": pa.array(cat.currency, pa.string()),
        "capacity": capacity, "lat": _round(cat.lat, 6), "lon": _round(cat.lon, 6),
        "city": pa.array(city[cat.event_metro], pa.string()),
        "country": pa.array(country[cat.event_metro], pa.string()),
        "created_at": cat.created,
    })
    # Friendships: once per pair, in id order.
    fa, fb, since = pop.friend_a, pop.friend_b, pop.friend_since
    friendships = pa.table({"user_id": take(uid, fa), "friend_id": take(uid, fb),
                            "since": since})

    order = np.lexsort((act.reg_event, act.reg_user, act.reg_at))
    status_names = pa.array(list(STATUS_NAMES), pa.string())
    registrations = pa.table({
        "user_id": take(uid, act.reg_user[order]), "event_id": take(eid, act.reg_event[order]),
        "at": act.reg_at[order],
        "status": status_names.take(pa.array(act.reg_status[order].astype(np.int64))),
    })
    order = np.lexsort((act.inv_event, act.inv_user, act.inv_at))
    invitations = pa.table({
        "user_id": take(uid, act.inv_user[order]), "event_id": take(eid, act.inv_event[order]),
        "by_user_id": take(uid, act.inv_by[order]), "at": act.inv_at[order],
    })
    order = np.lexsort((act.view_event, act.view_user, act.view_at))
    views = pa.table({
        "user_id": take(uid, act.view_user[order]), "event_id": take(eid, act.view_event[order]),
        "at": act.view_at[order], "count": pa.array(act.view_count[order], pa.int64()),
    })
    order = np.lexsort((act.follow_host, act.follow_user, act.follow_at))
    follows = pa.table({
        "user_id": take(uid, act.follow_user[order]), "host_id": take(hid, act.follow_host[order]),
        "at": act.follow_at[order],
    })
    order = np.lexsort((act.rating_event, act.rating_user, act.rating_at))
    ratings = pa.table({
        "user_id": take(uid, act.rating_user[order]),
        "event_id": take(eid, act.rating_event[order]),
        "stars": pa.array(act.rating_stars[order], pa.int64()), "at": act.rating_at[order],
    })
    return {"users": users, "hosts": hosts, "events": events, "friendships": friendships,
            "registrations": registrations, "invitations": invitations, "views": views,
            "follows": follows, "ratings": ratings}
