"""Baselines behave: the rules rank what they should, the learned ones beat random.

Also home of the small in-memory graphs the evaluation tests share (``make_tables``,
``planted_tables``): no Neo4j is needed for any of these tests.
"""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gnn.baselines import (
    HostRuleRanker,
    ItemKNNRanker,
    OracleRanker,
    PopularityRanker,
    RandomRanker,
    host_rule_scores,
)
from gnn.history import Catalog, History
from graph.export import GraphTables

warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)

DAY = 86_400_000.0
T0 = 1_600_000_000_000.0


def _frame(rows: list[dict] | None, columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows or [], columns=columns)
    for c in columns:
        if c in ("at", "since", "start_time", "created_at", "end_time", "joined_at", "stars"):
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype(np.float64)
    return frame


def make_tables(
    users: list[str],
    events: list[dict],
    registrations: list[dict] | None = None,
    follows: list[dict] | None = None,
    friendships: list[dict] | None = None,
    invitations: list[dict] | None = None,
    views: list[dict] | None = None,
    ratings: list[dict] | None = None,
) -> GraphTables:
    """A hand-written graph: ``events`` rows need ``id``, ``host_id`` and ``start_time`` (ms);
    every host named there exists; everything happens in one city."""
    ev = pd.DataFrame(events)
    ev = ev.assign(
        category=ev.get("category", pd.Series(["music"] * len(ev))),
        created_at=ev.get("created_at", pd.Series([T0 - 60 * DAY] * len(ev))),
        lat=52.5,
        lon=13.4,
        price=0.0,
        city="Berlin",
        title="",
    )
    ev["start_time"] = ev["start_time"].astype(np.float64)
    hosts = sorted(set(ev["host_id"]))
    return GraphTables(
        users=pd.DataFrame({"id": users, "lat": 52.5, "lon": 13.4, "city": "Berlin"}),
        events=ev,
        hosts=pd.DataFrame({"id": hosts, "name": hosts, "kind": "organisation"}),
        friendships=_frame(friendships, ["user_id", "friend_id", "since"]),
        registrations=_frame(registrations, ["user_id", "event_id", "at", "status"]),
        invitations=_frame(invitations, ["user_id", "event_id", "by_user_id", "at"]),
        views=_frame(views, ["user_id", "event_id", "at", "count"]),
        follows=_frame(follows, ["user_id", "host_id", "at"]),
        ratings=_frame(ratings, ["user_id", "event_id", "stars", "at"]),
    )


@cache
def planted_tables(
    n_users: int = 300, n_hosts: int = 30, n_events: int = 600, seed: int = 0
) -> GraphTables:
    """A small graph with planted structure: taste groups (one category each), two favourite
    hosts per user, friends within a group. P(register) is 0.25 for a favourite host's event,
    0.03 for the group's category, 0.002 otherwise (times a per-user activity); registrations
    happen 0.5-40 days before the start, 90 % going."""
    rng = np.random.default_rng(seed)
    n_cats, days = 5, 120
    cats = [f"cat{i}" for i in range(n_cats)]
    host_cat = rng.integers(0, n_cats, n_hosts)
    ev_host = rng.integers(0, n_hosts, n_events)
    start = T0 + rng.uniform(10, days, n_events) * DAY
    events = pd.DataFrame(
        {
            "id": [f"e{i}" for i in range(n_events)],
            "host_id": [f"h{h}" for h in ev_host],
            "title": "",
            "category": [cats[c] for c in host_cat[ev_host]],
            "start_time": start,
            "price": rng.choice([0.0, 10.0, 25.0], n_events),
            "lat": 52.5 + rng.normal(0, 0.05, n_events),
            "lon": 13.4 + rng.normal(0, 0.05, n_events),
            "city": "Berlin",
            "created_at": start - 60 * DAY,
        }
    )
    group = rng.integers(0, n_cats, n_users)
    users = pd.DataFrame(
        {
            "id": [f"u{i}" for i in range(n_users)],
            "lat": 52.5 + rng.normal(0, 0.05, n_users),
            "lon": 13.4 + rng.normal(0, 0.05, n_users),
            "city": "Berlin",
        }
    )
    fav = np.zeros((n_users, n_hosts), bool)
    for u in range(n_users):
        same = np.flatnonzero(host_cat == group[u])
        if len(same):
            fav[u, rng.choice(same, size=min(2, len(same)), replace=False)] = True
    activity = rng.lognormal(0, 0.5, n_users)
    same_cat = group[:, None] == host_cat[ev_host][None, :]
    p = np.where(fav[:, ev_host], 0.25, np.where(same_cat, 0.03, 0.002)) * activity[:, None]
    uu, ee = np.nonzero(rng.random(p.shape) < np.clip(p, 0, 0.9))
    at = start[ee] - rng.uniform(0.5, 40, len(ee)) * DAY
    status = np.where(rng.random(len(ee)) < 0.9, "going", "declined")
    regs = pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in uu],
            "event_id": [f"e{i}" for i in ee],
            "at": at,
            "status": status,
        }
    )
    a, b = rng.integers(0, n_users, n_users * 3), rng.integers(0, n_users, n_users * 3)
    ok = (group[a] == group[b]) & (a != b)
    friendships = pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in a[ok]],
            "friend_id": [f"u{i}" for i in b[ok]],
            "since": T0 + rng.uniform(0, days, ok.sum()) * DAY,
        }
    )
    fu, fh = np.nonzero(fav & (rng.random(fav.shape) < 0.5))
    follows = pd.DataFrame(
        {
            "user_id": [f"u{i}" for i in fu],
            "host_id": [f"h{i}" for i in fh],
            # some memberships carry no time (known at every cutoff)
            "at": np.where(
                rng.random(len(fu)) < 0.3, np.nan, T0 + rng.uniform(0, days, len(fu)) * DAY
            ),
        }
    )
    iv = rng.integers(0, len(regs), len(regs) // 10)
    invitations = pd.DataFrame(
        {
            "user_id": regs["user_id"].to_numpy()[iv],
            "event_id": regs["event_id"].to_numpy()[iv],
            "by_user_id": "u0",
            "at": regs["at"].to_numpy()[iv] - DAY,
        }
    )
    views = invitations.drop(columns="by_user_id").assign(at=lambda f: f["at"] - DAY, count=1)
    return GraphTables(
        users=users,
        events=events,
        hosts=pd.DataFrame({"id": [f"h{i}" for i in range(n_hosts)], "kind": "organisation"}),
        friendships=friendships,
        registrations=regs,
        invitations=invitations,
        views=views,
        follows=follows,
        ratings=_frame(None, ["user_id", "event_id", "stars", "at"]),
    )


# --- rule baselines on hand-written graphs ----------------------------------------------------
def _rule_graph() -> tuple[GraphTables, float]:
    t = T0 + 10 * DAY
    events = [
        {"id": "past_a", "host_id": "A", "start_time": T0},  # u1 went to host A
        {"id": "past_b", "host_id": "B", "start_time": T0},
        {"id": "next_a", "host_id": "A", "start_time": t + DAY},
        {"id": "next_b", "host_id": "B", "start_time": t + DAY},  # the most popular upcoming
        {"id": "next_c", "host_id": "C", "start_time": t + DAY},  # followed by u1
        {"id": "next_d", "host_id": "D", "start_time": t + DAY},
    ]
    regs = [
        {"user_id": "u1", "event_id": "past_a", "at": T0 - DAY, "status": "going"},
        {"user_id": "u2", "event_id": "past_b", "at": T0 - DAY, "status": "going"},
        {"user_id": "u2", "event_id": "next_b", "at": t - DAY, "status": "going"},
        {"user_id": "u3", "event_id": "next_b", "at": t - DAY, "status": "going"},
        {"user_id": "u3", "event_id": "next_d", "at": t - DAY, "status": "going"},
        {"user_id": "u4", "event_id": "next_b", "at": t - DAY, "status": "declined"},
    ]
    follows = [{"user_id": "u1", "host_id": "C", "at": np.nan}]
    return make_tables(["u1", "u2", "u3", "u4"], events, regs, follows), t


def test_host_rule_ranks_past_host_then_follows_then_popularity() -> None:
    tables, t = _rule_graph()
    catalog = Catalog.from_tables(tables)
    history = History.at(tables, catalog, t)
    events = catalog.event_rows(["next_d", "next_c", "next_b", "next_a"])
    u1 = catalog.user_rows(["u1"])
    ranker = HostRuleRanker()
    ranker.fit(tables, catalog, t)
    scores = ranker.score(history, u1, events)[0]
    ranked = [catalog.event_ids[events[i]] for i in np.argsort(-scores)]
    # past host A first, then followed host C, then popularity: next_b (2) before next_d (1)
    assert ranked == ["next_a", "next_c", "next_b", "next_d"]
    np.testing.assert_array_equal(scores, host_rule_scores(history, u1, events)[0])


def test_host_rule_is_lexicographic_even_against_huge_popularity() -> None:
    tables, t = _rule_graph()
    regs = tables.registrations
    many = pd.DataFrame(
        {
            "user_id": [f"x{i}" for i in range(500)],
            "event_id": "next_d",
            "at": t - DAY,
            "status": "going",
        }
    )
    users = pd.concat(
        [
            tables.users,
            pd.DataFrame({"id": many["user_id"], "lat": 52.5, "lon": 13.4, "city": "Berlin"}),
        ]
    )
    tables = GraphTables(
        **{**tables.__dict__, "registrations": pd.concat([regs, many]), "users": users}
    )
    catalog = Catalog.from_tables(tables)
    history = History.at(tables, catalog, t)
    events = catalog.event_rows(["next_d", "next_c", "next_a"])
    scores = HostRuleRanker().score(history, catalog.user_rows(["u1"]), events)[0]
    assert scores[2] > scores[1] > scores[0]


def test_popularity_orders_by_going_count_only() -> None:
    tables, t = _rule_graph()
    catalog = Catalog.from_tables(tables)
    history = History.at(tables, catalog, t)
    events = catalog.event_rows(["next_a", "next_b", "next_d"])
    scores = PopularityRanker().score(history, catalog.user_rows(["u1", "u4"]), events)
    # next_b: 2 going (the decline does not count), next_d: 1, next_a: 0; same for everyone
    np.testing.assert_array_equal(scores, [[0, 2, 1], [0, 2, 1]])


def test_random_is_reproducible_and_seeded() -> None:
    users, events = np.arange(50), np.arange(200)
    a = RandomRanker(seed=1).score(None, users, events)  # type: ignore[arg-type]
    b = RandomRanker(seed=1).score(None, users, events)  # type: ignore[arg-type]
    c = RandomRanker(seed=2).score(None, users, events)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.min() >= 0 and a.max() < 1 and abs(a.mean() - 0.5) < 0.02
    # a block of users scores the same as the same users inside a bigger block (batching-free)
    np.testing.assert_array_equal(RandomRanker(1).score(None, users[10:20], events), a[10:20])


def test_item_knn_scores_co_registered_events_and_gives_cold_events_only_the_tie_break() -> None:
    t = T0 + 10 * DAY
    events = [{"id": e, "host_id": "H", "start_time": t + DAY} for e in ("x", "y", "z", "cold")]
    regs = [
        {"user_id": u, "event_id": e, "at": t - DAY, "status": "going"}
        for u, e in [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y"), ("c", "z"), ("d", "x")]
    ]
    tables = make_tables(["a", "b", "c", "d"], events, regs)
    catalog = Catalog.from_tables(tables)
    ranker = ItemKNNRanker()
    ranker.fit(tables, catalog, t)
    history = History.at(tables, catalog, t)
    ev = catalog.event_rows(["x", "y", "z", "cold"])
    s = ranker.score(history, catalog.user_rows(["d"]), ev)[0]
    # d went to x; sim(x, y) = 2 / sqrt(3 * 2), sim(x, z) = 0, sim(x, x) = 0
    assert s[1] == pytest.approx(2 / np.sqrt(6), abs=1e-6)
    assert s[2] < 1e-6 and s[3] < 1e-6 and s[3] < s[2]  # cold: 0 + smaller popularity


def test_oracle_state_follows_the_generators_definitions() -> None:
    t = T0 + 10 * DAY
    events = [
        {"id": "past", "host_id": "H", "start_time": t - DAY},
        {"id": "soon", "host_id": "H", "start_time": t + 5 * DAY},
        {"id": "later", "host_id": "H", "start_time": t + 9 * DAY},
    ]
    regs = [
        {"user_id": "me", "event_id": "past", "at": T0, "status": "going"},
        {"user_id": "me", "event_id": "later", "at": T0, "status": "going"},  # not attended yet
        {"user_id": "f1", "event_id": "soon", "at": T0, "status": "maybe"},
        {"user_id": "f2", "event_id": "soon", "at": T0, "status": "declined"},
        {"user_id": "x", "event_id": "soon", "at": t + DAY, "status": "going"},  # after now
    ]
    friends = [
        {"user_id": "me", "friend_id": "f1", "since": T0},
        {"user_id": "f2", "friend_id": "me", "since": T0},
    ]
    inv = [{"user_id": "me", "event_id": "soon", "by_user_id": "f1", "at": T0}]
    tables = make_tables(["me", "f1", "f2", "x"], events, regs, None, friends, inv)
    catalog = Catalog.from_tables(tables)

    class FakeTruth:
        user_ids = np.array(["me", "f1", "f2", "x"], dtype=object)
        event_ids = np.array(["past", "soon", "later"], dtype=object)

        def probability(self, user_ids, event_ids, at, state, until=None):
            self.seen = (at, until, state)
            return state["friends_registered"] + 10 * state["host_past_going"]

    truth = FakeTruth()
    oracle = OracleRanker(truth)
    oracle.fit(tables, catalog, t)
    history = History.at(tables, catalog, t)
    me, soon = catalog.user_rows(["me"]), catalog.event_rows(["soon"])
    state = oracle.state(history, me, soon)
    assert state["friends_registered"].tolist() == [1.0]  # f1's maybe counts, f2's decline not
    assert state["host_past_going"].tolist() == [1.0]  # only the event that already started
    assert state["popularity"].tolist() == [1.0]  # x's registration is after now
    assert state["invited"].tolist() == [1.0]
    assert state["follows_host"].tolist() == [0.0]
    assert oracle.score(history, me, soon).tolist() == [[11.0]]
    assert truth.seen[0] == int(t // 1000)  # the truth takes epoch seconds


# --- learned baselines beat random on the planted graph -------------------------------------
@pytest.fixture(scope="module")
def planted_report() -> dict:
    from gnn.evaluate import evaluate

    pytest.importorskip("implicit")
    return evaluate(
        planted_tables(),
        None,
        rankers=["random", "popularity", "host_rule", "item_knn", "mf", "lightgbm"],
        seed=0,
    )


@pytest.mark.parametrize("model", ["item_knn", "mf", "lightgbm", "host_rule"])
def test_learned_and_rule_baselines_beat_random(planted_report: dict, model: str) -> None:
    models = planted_report["models"]
    assert models[model]["ndcg@10"] > 2 * models["random"]["ndcg@10"]
    assert models[model]["auc"] > models["random"]["auc"] + 0.05


def test_lightgbm_learns_from_the_inner_window(planted_report: dict) -> None:
    info = planted_report["training"]["lightgbm"]["info"]
    assert info["inner_cutoff_ms"] < planted_report["protocol"]["cutoff_ms"]
    assert info["positive_pairs"] > 0 and info["pairs"] > info["positive_pairs"]
    # the planted signal is host loyalty: the model should lean on the host features
    top3 = list(info["feature_gain"])[:3]
    assert {"host_going", "host_share", "follows_host"} & set(top3)


# --- on the synthetic generator's data -----------------------------------------------------
def generated_tables(n_users: int, seed: int, out: Path) -> GraphTables:
    """Generate a synthetic dataset (Parquet) and read it as the export would give it: times as
    float epoch ms, NaN where absent."""
    from dataclasses import fields
    from datetime import UTC, datetime

    synthetic = pytest.importorskip("etl.synthetic")
    synthetic.generate(n_users, seed, out, fmt="parquet", now=datetime(2026, 6, 1, tzinfo=UTC),
                       progress=False)  # fmt: skip
    frames = {}
    for f in fields(GraphTables):
        frame = pd.read_parquet(out / f"{f.name}.parquet")
        for column in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                ms = frame[column].astype("int64").astype(np.float64) / 1.0
                frame[column] = ms.where(frame[column].notna(), np.nan)
        frames[f.name] = frame
    return GraphTables(**frames)


def test_learned_baselines_beat_popularity_on_generated_data(tmp_path: Path) -> None:
    from gnn.evaluate import evaluate, load_truth

    pytest.importorskip("implicit")
    tables = generated_tables(1500, 7, tmp_path / "synthetic")
    report = evaluate(
        tables,
        None,
        rankers=["random", "popularity", "host_rule", "item_knn", "mf", "lightgbm", "oracle"],
        truth=load_truth(tmp_path / "synthetic"),
    )
    m = {name: v["ndcg@10"] for name, v in report["models"].items()}
    for learned in ("item_knn", "mf", "lightgbm"):
        assert m[learned] > m["popularity"], (learned, m)
    assert m["lightgbm"] > m["host_rule"] > m["random"], m
    # the planted truth is the ceiling (up to noise)
    assert m["oracle"] >= 0.95 * max(v for k, v in m.items() if k != "oracle"), m
