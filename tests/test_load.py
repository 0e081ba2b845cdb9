"""`eventgraph etl load` against the suite's real Neo4j: what is written, rejected, and re-run."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import wipe
from neo4j import Driver
from typer.testing import CliRunner

from etl.load import LoadReport, load_dataset
from etl.load.core import choose_bulk_import
from graph.bulk_import import BulkImport
from graph.schema import schema_overview
from graph.server import LocalNeo4j
from graph.settings import Settings
from graph.stats import graph_counts

DATA = Path(__file__).parent / "data" / "load"

TINY_NODES = {"User": 5, "Event": 3, "Host": 2, "Category": 2, "City": 3}
TINY_RELS = {
    "FRIENDS_WITH": 3, "HOSTS": 3, "RUNS": 1, "FOLLOWS": 2, "REGISTERED": 5, "INVITED_TO": 2,
    "VIEWED": 2, "SAVED": 0, "RATED": 2, "IN_CATEGORY": 3, "IN_CITY": 3, "LIVES_IN": 4,
}  # fmt: skip

pytestmark = pytest.mark.neo4j


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture
def db(driver: Driver) -> Driver:
    wipe(driver)
    return driver


@pytest.fixture
def dataset(tmp_path: Path) -> Callable[[str], Path]:
    """A fresh copy of a fixture dataset (the loader writes rejects/ into it)."""

    copies = iter(range(1_000))

    def copy(name: str) -> Path:
        target = tmp_path / f"{name}-{next(copies)}"
        shutil.copytree(DATA / name, target)
        return target

    return copy


def _plain(value: Any) -> Any:
    if hasattr(value, "iso_format"):
        return ("datetime", value.iso_format())
    if hasattr(value, "srid"):
        return ("point", value.srid, tuple(value))
    if isinstance(value, list):
        return tuple(_plain(v) for v in value)
    return (type(value).__name__, value)


def graph_dump(driver: Driver) -> list[str]:
    """Every node and relationship with all its properties, as sorted comparable lines."""
    nodes, _, _ = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props"
    )
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN type(r) AS type, coalesce(a.id, a.name) AS a, "
        "coalesce(b.id, b.name) AS b, properties(r) AS props"
    )
    lines = [
        repr((sorted(r["labels"]), sorted((k, _plain(v)) for k, v in r["props"].items())))
        for r in nodes
    ]
    lines += [
        repr((r["type"], r["a"], r["b"], sorted((k, _plain(v)) for k, v in r["props"].items())))
        for r in rels
    ]
    return sorted(lines)


def checksum(driver: Driver) -> str:
    return hashlib.sha256("\n".join(graph_dump(driver)).encode()).hexdigest()


def counts(driver: Driver) -> tuple[dict[str, int], dict[str, int]]:
    return graph_counts(driver)


def rejects(folder: Path, name: str) -> list[dict[str, str]]:
    path = folder / "rejects" / f"{name}.csv"
    if not path.exists():
        return []
    return pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")


def load(folder: Path, driver: Driver, **kwargs: Any) -> LoadReport:
    kwargs.setdefault("progress", False)
    return load_dataset(folder, driver, **kwargs)


# --- a clean dataset -----------------------------------------------------------------------


def test_tiny_dataset_loads_every_row_with_the_schema(
    db: Driver, dataset: Callable[[str], Path]
) -> None:
    folder = dataset("tiny")
    report = load(folder, db)
    assert report.path == "merge"
    assert report.rows_rejected == 0
    assert report.rows_loaded == report.rows_read == 26
    assert counts(db) == (TINY_NODES, TINY_RELS)
    overview = schema_overview(db)
    assert {"user_id", "event_id", "host_id", "category_name", "city_name"} <= set(
        overview["constraints"]
    )
    assert {"event_location", "event_start_time"} <= set(overview["indexes"])

    records, _, _ = db.execute_query(
        "MATCH (u:User {id: '007'}) RETURN u.birth_year AS by, u.location AS loc, "
        "u.joined_at AS joined"
    )
    user = records[0]
    assert user["by"] == 1990
    assert (user["loc"].srid, user["loc"].latitude, user["loc"].longitude) == (
        4326, 51.5072, -0.1276,
    )  # fmt: skip
    assert user["joined"].iso_format().startswith("2024-01-15T09:30:00")
    records, _, _ = db.execute_query(
        "MATCH (e:Event {id: 'e1'}) RETURN e.tags AS tags, e.status AS status, "
        "e.description AS description, e.price AS price, e.capacity AS capacity"
    )
    assert records[0].data() == {
        "tags": ["maker", "hardware"], "status": "scheduled",
        "description": "Bring your projects,\nand your friends", "price": 0.0, "capacity": 40,
    }  # fmt: skip
    records, _, _ = db.execute_query(
        "MATCH (a:User)-[f:FRIENDS_WITH]->(b:User) RETURN a.id AS a, b.id AS b ORDER BY a, b"
    )
    assert [(r["a"], r["b"]) for r in records] == [("007", "12a"), ("007", "u3"), ("u4", "u5")]
    records, _, _ = db.execute_query(
        "MATCH (u:User)-[r:REGISTERED]->(e:Event) RETURN u.id AS u, r.status AS s ORDER BY u"
    )
    assert [r["s"] for r in records] == ["going", "going", "maybe", "watching", "waitlist"]
    records, _, _ = db.execute_query(
        "MATCH (c:City {name: 'London'}) RETURN c.country AS country, c.location AS loc"
    )
    lats = [51.5072, 51.52, 51.51, 51.5]
    assert records[0]["country"] == "GB"
    assert records[0]["loc"].latitude == pytest.approx(sum(lats) / len(lats))


def test_second_load_changes_nothing(db: Driver, dataset: Callable[[str], Path]) -> None:
    folder = dataset("tiny")
    load(folder, db)
    first = (counts(db), checksum(db))
    report = load(folder, db, batch_size=2)
    assert report.rows_loaded == 26
    assert (counts(db), checksum(db)) == first


# --- bad rows ------------------------------------------------------------------------------


def test_each_bad_row_is_rejected_with_its_reason_and_good_rows_load(
    db: Driver, dataset: Callable[[str], Path]
) -> None:
    folder = dataset("bad")
    report = load(folder, db)
    year = time.gmtime().tm_year
    no_offset = (
        "joined_at: 2024-01-01T10:00:00 has no UTC offset (ISO 8601 with an offset is required, "
        "e.g. 2024-05-01T19:00:00+02:00)"
    )
    expected: dict[str, list[tuple[str, str]]] = {
        "users": [
            ("u2", "lat: 123.4 is outside [-90, 90]"),
            ("u3", "lon: 200 is outside [-180, 180]"),
            ("u4", "lat: required value is missing"),
            ("", "id: required value is missing"),
            ("u5", "birth_year: 1850 is not a plausible birth year (a whole year from 1900 to "
             f"{year})"),
            ("u6", "birth_year: abc is not a number"),
            ("u7", "gender: robot is not one of female, male, non-binary, other, unknown"),
            ("u8", no_offset),
            ("u9", "joined_at: yesterday is not a valid ISO 8601 time"),
            ("u1", "id: u1 is a duplicate of row 1"),
        ],
        "hosts": [
            ("h2", "kind: robot is not one of person, organisation"),
            ("h3", "user_id: u999 does not exist"),
            ("h4", "user_id: u2 was rejected (see rejects/users.csv)"),
        ],
        "events": [
            ("e2", "end_time: 2025-06-01T17:00:00+02:00 is before start_time "
             "2025-06-01T18:00:00+02:00"),
            ("e3", "price: -5 is negative (must be >= 0)"),
            ("e4", "capacity: 0 is not a positive integer"),
            ("e5", "capacity: 2.5 is not a positive integer"),
            ("e6", "host_id: h2 was rejected (see rejects/hosts.csv)"),
            ("e7", "host_id: h404 does not exist"),
            ("e8", "start_time: required value is missing"),
        ],
        "friendships": [
            ("u10", "(user_id, friend_id): (u10, u1) is a duplicate of row 1 (one friendship per "
             "pair, in either direction)"),
            ("u1", "friend_id: u1 is the same user as user_id (self-friendship)"),
            ("u1", "friend_id: u2 was rejected (see rejects/users.csv)"),
            ("u1", "friend_id: u404 does not exist"),
        ],
        "registrations": [
            ("u1", "(user_id, event_id): (u1, e1) is a duplicate of row 1"),
            ("u1", "status: attending is not one of going, maybe, declined, waitlist, watching"),
            ("u1", "at: required value is missing"),
            ("u10", "event_id: e2 was rejected (see rejects/events.csv)"),
        ],
        "invitations": [("u10", "by_user_id: u404 does not exist")],
        "views": [("u1", "count: 0 is not a positive integer")],
        "follows": [("u1", "host_id: h3 was rejected (see rejects/hosts.csv)")],
        "ratings": [
            ("u1", "stars: 6 is not an integer from 1 to 5"),
            ("u10", "stars: x is not a number"),
        ],
    }  # fmt: skip
    for name, rows in expected.items():
        found = rejects(folder, name)
        key = "id" if name in ("users", "hosts", "events") else "user_id"
        assert [(r[key], r["reason"]) for r in found] == rows, name
    # A reject keeps every original column as it was written.
    assert rejects(folder, "users")[0] == {
        "id": "u2", "name": "Bad Lat", "birth_year": "1990", "gender": "", "locale": "en",
        "city": "Berlin", "lat": "123.4", "lon": "13.4", "joined_at": "",
        "reason": "lat: 123.4 is outside [-90, 90]",
    }  # fmt: skip

    assert {f.name: (f.read, f.loaded, f.rejected) for f in report.files} == {
        "users": (12, 2, 10), "hosts": (4, 1, 3), "events": (9, 2, 7),
        "friendships": (5, 1, 4), "registrations": (7, 3, 4), "invitations": (2, 1, 1),
        "views": (2, 1, 1), "follows": (2, 1, 1), "ratings": (3, 1, 2),
    }  # fmt: skip
    nodes, rels = counts(db)
    assert nodes == {"User": 2, "Event": 2, "Host": 1, "Category": 2, "City": 2}
    assert {k: v for k, v in rels.items() if v} == {
        "FRIENDS_WITH": 1, "HOSTS": 2, "RUNS": 1, "FOLLOWS": 1, "REGISTERED": 3,
        "INVITED_TO": 1, "VIEWED": 1, "RATED": 1, "IN_CATEGORY": 2, "IN_CITY": 2, "LIVES_IN": 2,
    }  # fmt: skip


def test_strict_loads_nothing_when_a_row_is_rejected(
    db: Driver, dataset: Callable[[str], Path]
) -> None:
    folder = dataset("bad")
    report = load(folder, db, strict=True)
    assert report.strict_failed and report.path == "none"
    assert report.rows_loaded == 0 and report.rows_rejected == 33
    assert len(rejects(folder, "users")) == 10
    assert sum(counts(db)[0].values()) == 0
    clean = dataset("tiny")
    assert not load(clean, db, strict=True).strict_failed
    assert counts(db)[0] == TINY_NODES


def test_references_to_ids_already_in_the_database(
    db: Driver, dataset: Callable[[str], Path], tmp_path: Path
) -> None:
    load(dataset("tiny"), db)
    more = tmp_path / "more"
    more.mkdir()
    (more / "users.csv").write_text(
        "id,name,birth_year,gender,locale,city,lat,lon,joined_at\nu6,New,,,,London,51.5,-0.1,\n"
    )
    (more / "events.csv").write_text("id,host_id,start_time,lat,lon\n")  # none new
    (more / "registrations.csv").write_text(
        "user_id,event_id,at,status\nu6,e1,2025-05-07T10:00:00Z,\n007,e3,2025-05-07T10:00:00Z,\n"
        "u6,e999,2025-05-07T10:00:00Z,\n"
    )
    (more / "friendships.csv").write_text("user_id,friend_id,since\nu6,12a,\n")
    (more / "follows.csv").write_text("user_id,host_id,at\nu6,h2,\n")
    report = load(more, db)
    assert [(f.name, f.loaded, f.rejected) for f in report.files] == [
        ("users", 1, 0), ("events", 0, 0), ("friendships", 1, 0), ("registrations", 2, 1),
        ("follows", 1, 0),
    ]  # fmt: skip
    assert [r["reason"] for r in rejects(more, "registrations")] == [
        "event_id: e999 does not exist"
    ]
    nodes, rels = counts(db)
    assert nodes["User"] == 6 and nodes["Event"] == 3
    assert rels["REGISTERED"] == 7 and rels["FRIENDS_WITH"] == 4 and rels["LIVES_IN"] == 5


def test_parquet_gives_the_same_graph_as_csv(
    db: Driver, dataset: Callable[[str], Path], tmp_path: Path
) -> None:
    folder = dataset("tiny")
    load(folder, db)
    from_csv = graph_dump(db)
    parquet = tmp_path / "tiny-parquet"
    parquet.mkdir()
    for csv in folder.glob("*.csv"):
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        frame.to_parquet(parquet / f"{csv.stem}.parquet", index=False)
    wipe(db)
    load(parquet, db)
    assert graph_dump(db) == from_csv


# --- killed and re-run ---------------------------------------------------------------------


def _write_medium(folder: Path, seed: int = 3) -> int:
    """A dataset big enough to kill a load halfway (with small batches): ~8k rows."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    n_users, n_hosts, n_events = 1000, 20, 100
    users = [f"u{i:05d}" for i in range(n_users)]
    events = [f"e{i:04d}" for i in range(n_events)]
    hosts = [f"h{i:03d}" for i in range(n_hosts)]
    cities = np.array(["Berlin", "Lisbon", "Oslo"])
    pd.DataFrame({
        "id": users, "name": [f"User {i}" for i in range(n_users)],
        "birth_year": rng.integers(1950, 2005, n_users), "city": rng.choice(cities, n_users),
        "lat": rng.uniform(-60, 60, n_users).round(6), "lon": rng.uniform(-170, 170, n_users),
        "joined_at": "2024-01-01T00:00:00+01:00",
    }).to_csv(folder / "users.csv", index=False)  # fmt: skip
    pd.DataFrame({"id": hosts, "name": hosts, "kind": "person", "user_id": users[:n_hosts]}).to_csv(
        folder / "hosts.csv", index=False
    )
    pd.DataFrame({
        "id": events, "host_id": rng.choice(hosts, n_events), "title": events,
        "category": rng.choice(["music", "tech"], n_events), "tags": "a|b",
        "start_time": "2025-06-01T18:00:00+02:00", "lat": rng.uniform(-60, 60, n_events),
        "lon": rng.uniform(-170, 170, n_events), "city": rng.choice(cities, n_events),
        "country": "XX",
    }).to_csv(folder / "events.csv", index=False)  # fmt: skip
    pairs = rng.integers(0, n_users, (2000, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    pairs = np.unique(np.sort(pairs, axis=1), axis=0)
    pd.DataFrame({
        "user_id": np.array(users)[pairs[:, 0]], "friend_id": np.array(users)[pairs[:, 1]],
        "since": "2024-06-01T00:00:00Z",
    }).to_csv(folder / "friendships.csv", index=False)  # fmt: skip
    regs = np.unique(rng.integers(0, n_users * n_events, 5000))
    pd.DataFrame({
        "user_id": np.array(users)[regs // n_events], "event_id": np.array(events)[regs % n_events],
        "at": "2025-05-01T12:00:00Z", "status": rng.choice(["going", "maybe"], len(regs)),
    }).to_csv(folder / "registrations.csv", index=False)  # fmt: skip
    return n_users + n_hosts + n_events + len(pairs) + len(regs)


def _cli_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "EVENTGRAPH_NEO4J_URI": settings.bolt_uri,
        "EVENTGRAPH_NEO4J_USER": settings.neo4j_user,
        "EVENTGRAPH_NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
        "EVENTGRAPH_NEO4J_DATABASE": settings.neo4j_database,
        "EVENTGRAPH_DATA_DIR": str(tmp_path / "var"),
    })  # fmt: skip
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from etl.cli import app; app()", *args]


def test_killed_load_rerun_gives_the_uninterrupted_graph(
    db: Driver, neo4j_settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "medium"
    rows = _write_medium(folder)
    env = _cli_env(neo4j_settings, tmp_path)
    command = _cli("etl", "load", str(folder), "--batch-size", "50")
    proc = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            records, _, _ = db.execute_query("MATCH ()-[r:REGISTERED]->() RETURN count(r) AS n")
            if records[0]["n"] > 0:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, "the load finished before it could be killed"
    partial = counts(db)[1]["REGISTERED"]
    assert 0 < partial < 4_500

    rerun = subprocess.run(
        _cli("etl", "load", str(folder)), env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    after_kill = graph_dump(db)

    wipe(db)
    report = load(folder, db)
    assert report.rows_loaded == rows
    assert graph_dump(db) == after_kill


# --- the bulk path -------------------------------------------------------------------------


@pytest.fixture
def managed(test_server: LocalNeo4j) -> Iterator[LocalNeo4j]:
    """The suite's server, for tests that stop and start it; left running whatever happens."""
    try:
        yield test_server
    finally:
        BulkImport(test_server).finish()
        if not test_server.is_running():
            test_server.start(timeout=180)


def test_path_choice(db: Driver, dataset: Callable[[str], Path], managed: LocalNeo4j) -> None:
    assert choose_bulk_import(db, managed, None) is not None  # empty local database
    assert choose_bulk_import(db, None, None) is None  # EVENTGRAPH_NEO4J_URI: never bulk
    assert choose_bulk_import(db, managed, None, allow_bulk=False) is None
    load(dataset("tiny"), db)
    assert choose_bulk_import(db, managed, None) is None  # not empty: MERGE
    BulkImport(managed).begin("a bulk load that was killed")
    assert choose_bulk_import(db, managed, None) is not None  # re-import, overwriting


def test_bulk_path_equals_merge_path_and_redoes_a_killed_import(
    db: Driver, dataset: Callable[[str], Path], managed: LocalNeo4j
) -> None:
    merge_folder = dataset("bad")
    assert load(merge_folder, db).path == "merge"
    merged = graph_dump(db)

    # A bulk load killed after its marker was written left a half-imported database (here:
    # another dataset). The next load imports again, overwriting it.
    wipe(db)
    load(dataset("tiny"), db)
    BulkImport(managed).begin("a bulk load that was killed")
    folder = dataset("bad")
    report = load(folder, db, server=managed)
    assert report.path == "bulk"
    assert managed.is_running()
    assert not BulkImport(managed).interrupted()
    assert graph_dump(db) == merged
    for name in ("users", "hosts", "events", "friendships", "registrations"):
        assert rejects(folder, name) == rejects(merge_folder, name)
    assert [(f.name, f.loaded, f.rejected) for f in report.files] == [
        (f.name, f.loaded, f.rejected) for f in load(merge_folder, db).files
    ]
    overview = schema_overview(db)
    assert {"user_id", "event_id", "host_id", "category_name", "city_name"} <= set(
        overview["constraints"]
    )
    # The MERGE path over the bulk-loaded graph changes nothing.
    assert graph_dump(db) == merged


# --- the command line ----------------------------------------------------------------------


def test_cli_exit_codes(
    db: Driver,
    neo4j_settings: Settings,
    dataset: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from etl import cli as root
    from etl.load import cli

    runner = CliRunner()
    monkeypatch.setattr(cli, "get_settings", lambda: neo4j_settings)

    result = runner.invoke(root.app, ["etl", "load", str(tmp_path / "missing")])
    assert result.exit_code == 2, result.output
    no_events = tmp_path / "no-events"
    no_events.mkdir()
    (no_events / "users.csv").write_text("id,lat,lon\n")
    result = runner.invoke(root.app, ["etl", "load", str(no_events)])
    assert result.exit_code == 2 and "events.csv" in result.output

    bad = dataset("bad")
    result = runner.invoke(root.app, ["etl", "load", str(bad), "--strict"])
    assert result.exit_code == 1, result.output
    assert sum(counts(db)[0].values()) == 0
    result = runner.invoke(root.app, ["etl", "validate", str(bad)])
    assert result.exit_code == 1, result.output

    tiny = dataset("tiny")
    result = runner.invoke(root.app, ["etl", "validate", str(tiny)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(root.app, ["etl", "load", str(tiny), "--batch-size", "3"])
    assert result.exit_code == 0, result.output
    assert "rows/s" in result.output and "total" in result.output
    assert counts(db)[0] == TINY_NODES

    down = neo4j_settings.model_copy(
        update={"neo4j_uri": "bolt://127.0.0.1:1", "neo4j_connect_timeout_s": 1.0}
    )
    monkeypatch.setattr(cli, "get_settings", lambda: down)
    result = runner.invoke(root.app, ["etl", "load", str(tiny)])
    assert result.exit_code == 3, result.output
    result = runner.invoke(root.app, ["etl", "validate", str(tiny)])
    assert result.exit_code == 3, result.output
    result = runner.invoke(root.app, ["etl", "validate", "--offline", str(tiny)])
    assert result.exit_code == 0, result.output
