"""The temporal split: truncation, test positives, candidates, the inner window, no leakage."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from test_baselines import DAY, T0, make_tables, planted_tables

from gnn.evaluate import evaluate
from gnn.history import Catalog, History
from gnn.split import (
    DEFAULT_INNER_QUANTILE,
    TIME_COLUMNS,
    default_cutoff,
    going_times,
    make_split,
    max_time,
    supervision_window,
    truncate,
)
from graph.export import GraphTables

warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)

T = T0 + 10 * DAY


def _graph() -> GraphTables:
    events = [
        {"id": "old", "host_id": "A", "start_time": T - DAY},  # started before T
        {"id": "e1", "host_id": "A", "start_time": T + DAY},
        {"id": "e2", "host_id": "B", "start_time": T + 2 * DAY},
        {"id": "e3", "host_id": "B", "start_time": T + 3 * DAY},
        {"id": "e4", "host_id": "C", "start_time": T},  # starts exactly at T: not open
    ]
    regs = [
        {"user_id": "u1", "event_id": "old", "at": T - 2 * DAY, "status": "going"},
        {"user_id": "u1", "event_id": "e1", "at": T - DAY, "status": "declined"},  # answered
        {"user_id": "u1", "event_id": "e2", "at": T + DAY / 2, "status": "going"},  # positive
        {"user_id": "u1", "event_id": "e3", "at": T + DAY / 2, "status": "maybe"},  # not going
        {"user_id": "u2", "event_id": "e1", "at": T, "status": "going"},  # at T: known
        {"user_id": "u3", "event_id": "e1", "at": T + DAY / 3, "status": None},  # going
        {"user_id": "u3", "event_id": "old", "at": T + DAY / 3, "status": "going"},  # started
    ]
    follows = [
        {"user_id": "u2", "host_id": "B", "at": np.nan},  # a membership without a time
        {"user_id": "u3", "host_id": "A", "at": T + DAY},
    ]
    friends = [
        {"user_id": "u1", "friend_id": "u2", "since": T - DAY},
        {"user_id": "u1", "friend_id": "u3", "since": T + DAY},
        {"user_id": "u2", "friend_id": "u3", "since": np.nan},
    ]
    inv = [{"user_id": "u4", "event_id": "e3", "by_user_id": "u1", "at": T + 1.0}]
    views = [{"user_id": "u4", "event_id": "e3", "at": T - 1.0, "count": 2}]
    ratings = [{"user_id": "u1", "event_id": "old", "stars": 5, "at": T + DAY}]
    return make_tables(
        ["u1", "u2", "u3", "u4"], events, regs, follows, friends, inv, views, ratings
    )


def test_truncate_drops_exactly_the_rows_after_the_cutoff() -> None:
    tables = _graph()
    cut = truncate(tables, T)
    for name, column in TIME_COLUMNS.items():
        before, after = getattr(tables, name), getattr(cut, name)
        t = before[column].to_numpy(float)
        expected = before[np.isnan(t) | (t <= T)].reset_index(drop=True)
        pd.testing.assert_frame_equal(after, expected)
    # node tables whole, timeless rows kept
    for name in ("users", "events", "hosts"):
        assert getattr(cut, name) is getattr(tables, name)
    assert cut.follows["host_id"].tolist() == ["B"]
    assert len(cut.friendships) == 2 and len(cut.ratings) == 0 and len(cut.invitations) == 0
    assert max_time(cut) <= T
    assert max_time(tables) > T


def test_default_cutoff_is_the_80th_percentile_of_going_times() -> None:
    tables = _graph()
    t = going_times(tables)
    assert len(t) == 5  # declined and maybe are not going; a missing status is going
    assert default_cutoff(tables) == pytest.approx(np.quantile(t, 0.8))


def test_split_positives_candidates_and_test_users() -> None:
    tables = _graph()
    catalog = Catalog.from_tables(tables)
    split = make_split(tables, catalog, T)
    ids = catalog.event_ids
    # only events starting strictly after T are open
    assert sorted(ids[split.open_events]) == ["e1", "e2", "e3"]
    # positives: going after T on open events (u1 e2, u3 e1); u3's "old" started before T
    pos = {(catalog.user_ids[u], ids[e]) for u, e in zip(*split.positives.nonzero(), strict=True)}
    assert pos == {("u1", "e2"), ("u3", "e1")}
    assert sorted(catalog.user_ids[split.test_users]) == ["u1", "u3"]
    # u1's candidates exclude e1 (declined before T) but keep e2 and e3
    u1 = catalog.user_rows(["u1"])
    cand = dict(zip(ids[split.open_events], split.candidate_mask(u1)[0], strict=True))
    assert cand == {"e1": False, "e2": True, "e3": True}
    # u2 registered exactly at T: known, so excluded, and not a positive
    u2 = catalog.user_rows(["u2"])
    assert not split.candidate_mask(u2)[0][list(ids[split.open_events]).index("e1")]
    # cold flags: u3 and u4 had no registration at or before T; e2, e3 had none either
    assert sorted(catalog.user_ids[np.flatnonzero(split.cold_users)]) == ["u3", "u4"]
    assert sorted(ids[np.flatnonzero(split.cold_events)]) == ["e2", "e3", "e4"]
    assert split.positives_on_excluded == 0


def test_a_positive_on_an_already_answered_event_is_dropped_and_counted() -> None:
    tables = _graph()
    extra = pd.DataFrame(
        [{"user_id": "u1", "event_id": "e1", "at": T + DAY / 2, "status": "going"}]
    )
    tables = GraphTables(
        **{
            **tables.__dict__,
            "registrations": pd.concat([tables.registrations, extra], ignore_index=True),
        }
    )
    catalog = Catalog.from_tables(tables)
    split = make_split(tables, catalog, T)
    assert split.positives_on_excluded == 1
    assert split.positives[catalog.user_rows(["u1"])[0], catalog.event_rows(["e1"])[0]] == 0


def test_supervision_window_replays_the_protocol_one_step_back() -> None:
    tables = planted_tables()
    catalog = Catalog.from_tables(tables)
    cutoff = default_cutoff(tables)
    # the full graph may be passed: the window truncates at the cutoff itself
    w = supervision_window(tables, catalog, cutoff)
    t = going_times(tables)
    assert w.inner_cutoff_ms == pytest.approx(np.quantile(t[t <= cutoff], DEFAULT_INNER_QUANTILE))
    assert w.inner_cutoff_ms < cutoff and w.history.now_ms == w.inner_cutoff_ms
    # the history knows nothing after T_in
    regs = tables.registrations
    going = regs[regs["status"] == "going"]
    n_known = (going["at"] <= w.inner_cutoff_ms).sum()
    assert w.history.going.sum() == n_known
    # labels: going in (T_in, T] for events starting after T_in, not answered by T_in
    lab = going[(going["at"] > w.inner_cutoff_ms) & (going["at"] <= cutoff)]
    lab = lab[catalog.event_start[catalog.event_rows(lab["event_id"])] > w.inner_cutoff_ms]
    expected = set(
        zip(catalog.user_rows(lab["user_id"]), catalog.event_rows(lab["event_id"]), strict=True)
    )
    got = set(zip(w.pos_user.tolist(), w.pos_event.tolist(), strict=True))
    assert got == {(int(u), int(e)) for u, e in expected}
    assert np.all(catalog.event_start[w.open_events] > w.inner_cutoff_ms)

    pairs = w.ranking_pairs(n_hard=10, n_random=10, seed=0)
    assert pairs.groups.sum() == len(pairs)
    assert len(pairs.groups) == len(w.users)
    bounds = np.concatenate([[0], np.cumsum(pairs.groups)])
    for g in range(len(pairs.groups)):
        rows = slice(bounds[g], bounds[g + 1])
        assert len(set(pairs.users[rows])) == 1  # one user per group
        assert pairs.labels[rows].sum() >= 1  # every group has a positive
    assert int(pairs.labels.sum()) == len(w.pos_user)  # all positives are in
    # no pair the user had answered by T_in
    answered = w.history.pair_lookup(w.history.responded, pairs.users, pairs.events)
    assert answered.max() == 0
    # the hard negatives are the host rule's best: u's top host-rule candidate is in its group
    from gnn.baselines import host_rule_scores

    u = w.users[0]
    s = host_rule_scores(w.history, np.array([u]), w.open_events)[0]
    s[~w.candidate_mask(np.array([u]))[0]] = -np.inf
    s[np.isin(w.open_events, w.pos_event[w.pos_user == u])] = -np.inf
    assert w.open_events[np.argmax(s)] in pairs.events[pairs.users == u]
    again = w.ranking_pairs(n_hard=10, n_random=10, seed=0)
    np.testing.assert_array_equal(again.events, pairs.events)


class SpyRanker:
    """Records what ``fit`` was given; scores at random."""

    name = "spy"

    def fit(self, tables: GraphTables, catalog: Catalog, cutoff_ms: float) -> None:
        self.max_time = max_time(tables)
        self.cutoff_ms = cutoff_ms
        self.n_regs = len(tables.registrations)

    def score(self, history: History, users: np.ndarray, events: np.ndarray) -> np.ndarray:
        self.history_now = history.now_ms
        self.history_going = float(history.going.sum())
        return np.random.default_rng(0).random((len(users), len(events)))


def test_no_post_cutoff_row_reaches_fit_or_scoring() -> None:
    tables = planted_tables()
    spy = SpyRanker()
    report = evaluate(tables, None, rankers=[spy])
    cutoff = report["protocol"]["cutoff_ms"]
    assert spy.cutoff_ms == cutoff
    assert spy.max_time <= cutoff
    assert max_time(tables) > cutoff  # there was something to hide
    regs = tables.registrations
    assert spy.n_regs == (regs["at"] <= cutoff).sum()
    assert spy.history_now == cutoff
    going = regs[(regs["status"] == "going") & (regs["at"] <= cutoff)]
    assert spy.history_going == len(going)
