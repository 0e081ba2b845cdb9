"""The baselines the GNN is measured against, each a ``Ranker`` (``gnn.ranking``).

| name         | what it scores                                                                   |
|--------------|----------------------------------------------------------------------------------|
| ``random``   | a fixed pseudo-random number per (user, event, seed): order-free, reproducible   |
| ``popularity`` | going registrations of the event so far                                        |
| ``host_rule``| lexicographic: the user's past going registrations with the event's host, then   |
|              | follows the host, then popularity                                                |
| ``item_knn`` | item-based CF: cosine similarity of events over users' going registrations       |
|              | before the cutoff; score = sum of similarities to the user's past going events;  |
|              | cold events score 0 (plus the popularity tie-break every model here gets)        |
| ``mf``       | implicit-feedback ALS (the ``implicit`` library) on going registrations before   |
|              | the cutoff; users / events without any get a zero vector                         |
| ``lightgbm`` | ``lightgbm.LGBMRanker`` (lambdarank) on ``gnn.features.pair_features``, trained   |
|              | on the inner window of ``gnn.split.supervision_window``                          |
| ``oracle``   | the synthetic generator's true probability (only where its truth is available)   |

Every ``fit`` receives tables already truncated at the cutoff (``gnn.split.truncate``); every
``score`` reads the graph only through the ``History`` it is given.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gnn.features import FEATURE_NAMES, pair_features
from gnn.history import Catalog, History
from gnn.metrics import id_hashes, tie_keys
from graph.export import GraphTables

log = logging.getLogger(__name__)

#: Weight of the popularity tie-break added to the CF scores (popularity scaled to [0, 1)).
TIE_BREAK = 1e-9


def popularity01(history: History, events: np.ndarray) -> np.ndarray:
    """Going registrations so far, scaled to [0, 1) (monotone in the count)."""
    pop = history.event_popularity[events]
    return pop / (float(history.event_popularity.max(initial=0.0)) + 1.0)


def host_rule_scores(history: History, users: np.ndarray, events: np.ndarray) -> np.ndarray:
    """``2 * host_going + follows + popularity01``: lexicographic in (host_going, follows,
    popularity), because host_going is an integer count, follows is 0/1 and popularity01 < 1."""
    c = history.catalog
    users = np.asarray(users, np.int64)
    events = np.asarray(events, np.int64)
    hosts = c.event_host[events]
    known = hosts >= 0
    host_going = np.zeros((len(users), len(events)))
    follows = np.zeros((len(users), len(events)))
    if known.any() and len(users):
        host_going[:, known] = history.user_host_going[users][:, hosts[known]].toarray()
        follows[:, known] = history.follows[users][:, hosts[known]].toarray() > 0
    return 2.0 * host_going + follows + popularity01(history, events)[None, :]


class RandomRanker:
    """A pseudo-random score per (user id, event id, seed): reproducible whatever the order of
    the rows (without a history, per row number)."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._hashes: tuple[int, np.ndarray, np.ndarray] | None = None

    def fit(self, tables: GraphTables, catalog: Catalog, cutoff_ms: float) -> None:
        return None

    def score(self, history: History | None, users: np.ndarray, events: np.ndarray) -> np.ndarray:
        users, events = np.asarray(users, np.int64), np.asarray(events, np.int64)
        if history is None:
            return tie_keys(users, events, self.seed)
        c = history.catalog
        if self._hashes is None or self._hashes[0] != id(c):
            self._hashes = (id(c), id_hashes(c.user_ids), id_hashes(c.event_ids))
        return tie_keys(self._hashes[1][users], self._hashes[2][events], self.seed)


class PopularityRanker:
    """Going registrations of the event so far (the same list for everybody)."""

    name = "popularity"

    def fit(self, tables: GraphTables, catalog: Catalog, cutoff_ms: float) -> None:
        return None

    def score(self, history: History, users: np.ndarray, events: np.ndarray) -> np.ndarray:
        pop = history.event_popularity[np.asarray(events, np.int64)].astype(np.float64)
        return np.broadcast_to(pop, (len(users), len(events))).copy()


class HostRuleRanker:
    """Past going registrations with the host, then follows, then popularity."""

    name = "host_rule"

    def fit(self, tables: GraphTables, catalog: Catalog, cutoff_ms: float) -> None:
        return None

    def score(self, history: History, users: np.ndarray, events: np.ndarray) -> np.ndarray:
        return host_rule_scores(history, users, events)


def _binary(m: sp.spmatrix) -> sp.csr_matrix:
    out = sp.csr_matrix(m, dtype=np.float32, copy=True)
    out.data[:] = 1.0
    out.eliminate_zeros()
    return out


class ItemKNNRanker:
    """Item-based CF. ``sim(i, j) = |U_i ∩ U_j| / sqrt(|U_i| |U_j|)`` over the going registrations
    known at the cutoff (``U_i``: users going to event i), ``sim(i, i) = 0``;
    ``score(u, j) = sum_{i in going(u)} sim(i, j)`` with ``going(u)`` read from the scoring
    history, plus ``TIE_BREAK * popularity01`` (cold events: only the tie-break)."""

    name = "item_knn"

    def __init__(self) -> None:
        self.similarity: sp.csc_matrix | None = None

    def fit(self, tables: GraphTables, catalog: Catalog, cutoff_ms: float) -> None:
        going = _binary(History.at(tables, catalog, cutoff_ms).going).astype(np.float64)
        norms = np.sqrt(np.asarray(going.sum(axis=0)).ravel())
        inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        normed = (going @ sp.diags(inv)).tocsr()
        sim = (normed.T @ normed).tocsr()
        sim.setdiag(0.0)
        sim.eliminate_zeros()
        self.similarity = sim.tocsc()

    def score(self, history: History, users: np.ndarray, events: np.ndarray) -> np.ndarray:
        if self.similarity is None:
            raise RuntimeError("item_knn: fit() first")
        profile = _binary(history.going[np.asarray(users, np.int64)])
        sims = (profile @ self.similarity[:, np.asarray(events, np.int64)]).toarray()
        # Rounded so that equal sums added up in another order stay exactly equal (ties then go
        # to the popularity tie-break and the evaluation's seeded key, whatever the row order).
        sims = np.round(sims, 7)
        return sims + TIE_BREAK * popularity01(history, events)[None, :]


class MFRanker:
    """Implicit-feedback matrix factorisation: ``implicit``'s ALS (Hu, Koren & Volinsky 2008) on
    the binary going matrix at the cutoff, confidence ``1 + alpha``; score = dot product of the
    factors (users or events with no going registration get a zero vector), plus the tie-break."""

    name = "mf"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 10.0,
        iterations: int = 15,
        seed: int = 0,
    ) -> None:
        self.factors, self.regularization = factors, regularization
        self.alpha, self.iterations, self.seed = alpha, iterations, seed
        self.user_factors: np.ndarray | None = None
        self.item_factors: np.ndarray | None = None

    def fit(self, tables: GraphTables, catalog: Catalog, cutoff_ms: float) -> None:
        from implicit.cpu.als import AlternatingLeastSquares  # optional dependency, lazily
        from threadpoolctl import threadpool_limits

        going = _binary(History.at(tables, catalog, cutoff_ms).going)
        with threadpool_limits(1, "blas"):  # implicit parallelises itself
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
            )
            model.fit(going, show_progress=False)
        users = np.asarray(model.user_factors, np.float32).copy()
        items = np.asarray(model.item_factors, np.float32).copy()
        users[np.diff(going.indptr) == 0] = 0.0
        items[np.asarray(going.sum(axis=0)).ravel() == 0] = 0.0
        self.user_factors, self.item_factors = users, items

    def score(self, history: History, users: np.ndarray, events: np.ndarray) -> np.ndarray:
        if self.user_factors is None or self.item_factors is None:
            raise RuntimeError("mf: fit() first")
        u = self.user_factors[np.asarray(users, np.int64)]
        v = self.item_factors[np.asarray(events, np.int64)]
        return (u @ v.T).astype(np.float64) + TIE_BREAK * popularity01(history, events)[None, :]


@dataclass
class LightGBMRanker:
    """``lightgbm.LGBMRanker`` (lambdarank, binary relevance) on the 18 pair features.

    Training data: ``gnn.split.supervision_window`` at the cutoff (history at T_in, labels in
    (T_in, T]); per training user all positives + the ``n_hard`` host-rule best candidates + the
    ``n_random`` random candidates (``SupervisionWindow.ranking_pairs``). At most ``max_users``
    training users (a seeded sample). ``val_share`` of them are held out for early stopping on
    nDCG@10. ``info`` records what was trained. Trains on one thread by default: deterministic,
    and OpenMP threads on a busy 2-core machine made training 3-5x slower, not faster.

    Why no hard negatives by default: groups that mix host-rule top candidates into the negatives
    teach the model that host loyalty does not separate positives from negatives, while the test
    ranks *all* candidates. Measured (test nDCG@10, full ranking): Meetup Chicago 0.066 with 50
    hard + 50 random vs 0.129 with 200 random (host rule: 0.110); synthetic 10 000 users 0.243
    (50 + 50), 0.306 (20 + 100), 0.354 (10 + 200), 0.387 (0 + 200), host rule 0.283.
    """

    n_hard: int = 0
    n_random: int = 200
    max_users: int = 20_000
    val_share: float = 0.1
    n_estimators: int = 400
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_child_samples: int = 20
    early_stopping_rounds: int = 30
    quantile: float | None = None
    seed: int = 0
    n_jobs: int = 1
    chunk_pairs: int = 1_000_000
    name: str = "lightgbm"
    model: Any = field(default=None, repr=False)
    info: dict[str, Any] = field(default_factory=dict)

    def fit(self, tables: GraphTables, catalog: Catalog, cutoff_ms: float) -> None:
        import lightgbm as lgb

        from gnn.split import DEFAULT_INNER_QUANTILE, supervision_window

        window = supervision_window(
            tables, catalog, cutoff_ms, quantile=self.quantile or DEFAULT_INNER_QUANTILE
        )
        rng = np.random.default_rng(self.seed)
        users = window.users
        if len(users) > self.max_users:
            users = np.sort(rng.choice(users, size=self.max_users, replace=False))
        if len(users) == 0:
            raise ValueError("lightgbm: no labelled pair in the inner window")
        pairs = window.ranking_pairs(self.n_hard, self.n_random, seed=self.seed, users=users)
        x = pair_features(window.history, pairs.users, pairs.events)
        n_val = int(len(users) * self.val_share) if len(users) >= 20 else 0
        val_users = rng.permutation(users)[:n_val]
        is_val = np.isin(pairs.users, val_users)
        train = pairs.subset_users(np.setdiff1d(users, val_users))
        model = lgb.LGBMRanker(
            objective="lambdarank",
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.9,
            random_state=self.seed,
            deterministic=True,
            force_row_wise=True,
            n_jobs=self.n_jobs,
            verbose=-1,
        )
        kwargs: dict[str, Any] = {}
        if n_val:
            val = pairs.subset_users(val_users)
            # lightgbm >= 4.6 takes eval_X / eval_y; older releases only eval_set
            if "eval_X" in inspect.signature(model.fit).parameters:
                kwargs = {"eval_X": (x[is_val],), "eval_y": (val.labels,)}
            else:
                kwargs = {"eval_set": [(x[is_val], val.labels)]}
            kwargs |= {
                "eval_group": [val.groups],
                "eval_at": [10],
                "callbacks": [lgb.early_stopping(self.early_stopping_rounds, verbose=False)],
            }
        model.fit(
            x[~is_val], train.labels, group=train.groups, feature_name=list(FEATURE_NAMES), **kwargs
        )
        self.model = model
        best = getattr(model, "best_iteration_", None) or self.n_estimators
        gain = model.booster_.feature_importance(importance_type="gain")
        self.info = {
            "inner_cutoff_ms": window.inner_cutoff_ms,
            "train_users": int(len(users) - n_val),
            "val_users": int(n_val),
            "pairs": len(pairs),
            "positive_pairs": int(pairs.labels.sum()),
            "best_iteration": int(best),
            "val_ndcg@10": float(model.best_score_["valid_0"]["ndcg@10"]) if n_val else None,
            "feature_gain": {
                n: float(g)
                for n, g in sorted(zip(FEATURE_NAMES, gain, strict=True), key=lambda t: -t[1])
            },
        }

    def score(self, history: History, users: np.ndarray, events: np.ndarray) -> np.ndarray:
        if self.model is None:
            raise RuntimeError("lightgbm: fit() first")
        users = np.asarray(users, np.int64)
        events = np.asarray(events, np.int64)
        out = np.empty((len(users), len(events)))
        step = max(1, self.chunk_pairs // max(len(events), 1))
        for start in range(0, len(users), step):
            block = users[start : start + step]
            x = pair_features(history, np.repeat(block, len(events)), np.tile(events, len(block)))
            pred = self.model.booster_.predict(x, num_iteration=self.info["best_iteration"])
            out[start : start + len(block)] = pred.reshape(len(block), len(events))
        return out


#: Constructors of the baselines by name (the GNN and the oracle are built in ``gnn.evaluate``).
BASELINES = {
    "random": RandomRanker,
    "popularity": PopularityRanker,
    "host_rule": HostRuleRanker,
    "item_knn": ItemKNNRanker,
    "mf": MFRanker,
    "lightgbm": LightGBMRanker,
}


def make_baseline(name: str, seed: int = 0) -> Any:
    """A fresh baseline ranker by name, seeded where it has randomness."""
    if name not in BASELINES:
        raise KeyError(f"unknown baseline {name!r}; known: {', '.join(BASELINES)}")
    cls = BASELINES[name]
    if name in ("random", "mf", "lightgbm"):
        return cls(seed=seed)
    return cls()


#: Registration statuses the synthetic generator's choice model counts as "registered".
ACTIVE_STATUSES = ("going", "maybe", "waitlist")
#: ``until`` for the oracle: 2100-01-01 in epoch seconds (the rest of every event's window).
FAR_FUTURE_S = 4_102_444_800


class OracleRanker:
    """The synthetic generator's planted probability, as an upper reference (synthetic only).

    ``truth.probability(user_ids, event_ids, at_ms, state)`` gets the state counts the choice
    model reads (``etl/synthetic/choice_model.py``), computed here from the graph at the scoring
    moment with the generator's definitions: ``friends_registered`` (friends with a going / maybe
    / waitlist registration), ``host_past_going`` (the user's going registrations with the host's
    events that started before now), ``follows_host``, ``popularity`` (going / maybe / waitlist
    registrations of the event) and ``invited``. Every count reads only rows at or before the
    scoring moment of the tables ``fit`` was given.
    """

    name = "oracle"
    chunk_pairs = 1_000_000

    def __init__(self, truth: Any) -> None:
        self.truth = truth
        self.tables: GraphTables | None = None
        self._active: tuple[float, sp.csr_matrix] | None = None

    def fit(self, tables: GraphTables, catalog: Catalog, cutoff_ms: float) -> None:
        self.tables = tables

    def _active_matrix(self, history: History) -> sp.csr_matrix:
        if self._active is not None and self._active[0] == history.now_ms:
            return self._active[1]
        assert self.tables is not None
        c = history.catalog
        regs = self.tables.registrations
        t = regs["at"].to_numpy(np.float64)
        status = regs["status"].fillna("going")
        keep = (np.isnan(t) | (t < history.now_ms)) & status.isin(ACTIVE_STATUSES).to_numpy()
        u, e = c.user_rows(regs["user_id"][keep]), c.event_rows(regs["event_id"][keep])
        ok = (u >= 0) & (e >= 0)
        m = sp.csr_matrix(
            (np.ones(ok.sum(), np.float32), (u[ok], e[ok])), shape=(c.n_users, c.n_events)
        )
        m.sum_duplicates()
        m.data[:] = 1.0
        self._active = (history.now_ms, m)
        return m

    def state(self, history: History, users: np.ndarray, events: np.ndarray) -> dict[str, Any]:
        """The choice model's state arrays for every pair of users x events (row-major)."""
        c = history.catalog
        users = np.asarray(users, np.int64)
        events = np.asarray(events, np.int64)
        active = self._active_matrix(history)
        friends = (history.friends[users] @ active)[:, events].toarray()
        started = (c.event_start < history.now_ms).astype(np.float32)
        past_going = history.going.multiply(started[None, :]).tocsr()
        hosts = c.event_host[events]
        known = hosts >= 0
        host_going = np.zeros((len(users), len(events)))
        follows = np.zeros((len(users), len(events)))
        if known.any():
            onehot = sp.csr_matrix(
                (
                    np.ones(int((c.event_host >= 0).sum()), np.float32),
                    (np.flatnonzero(c.event_host >= 0), c.event_host[c.event_host >= 0]),
                ),
                shape=(c.n_events, c.n_hosts),
            )
            per_host = (past_going[users] @ onehot).tocsc()
            host_going[:, known] = per_host[:, hosts[known]].toarray()
            follows[:, known] = history.follows[users][:, hosts[known]].toarray() > 0
        popularity = np.asarray(active.sum(axis=0)).ravel()[events]
        invited = history.invited[users][:, events].toarray() > 0
        n = len(users) * len(events)
        return {
            "friends_registered": friends.reshape(n).astype(np.float64),
            "host_past_going": host_going.reshape(n),
            "follows_host": follows.reshape(n),
            "popularity": np.tile(popularity.astype(np.float64), len(users)),
            "invited": invited.reshape(n).astype(np.float64),
        }

    def score(self, history: History, users: np.ndarray, events: np.ndarray) -> np.ndarray:
        """P(registers in [now, start)): the planted probability at now's state times the share
        of the pair's consideration window still ahead (``until`` = far future). Pairs the
        truth does not know (ids added after generation) score 0."""
        c = history.catalog
        users = np.asarray(users, np.int64)
        events = np.asarray(events, np.int64)
        known_u = pd.Index(self.truth.user_ids).get_indexer(c.user_ids[users]) >= 0
        known_e = pd.Index(self.truth.event_ids).get_indexer(c.event_ids[events]) >= 0
        out = np.zeros((len(users), len(events)))
        if not known_u.any() or not known_e.any():
            return out
        ku, ke = users[known_u], events[known_e]
        state = self.state(history, ku, ke)
        at_s = int(history.now_ms // 1000)
        p = np.empty(len(ku) * len(ke))
        step = max(1, self.chunk_pairs)
        user_ids = c.user_ids.to_numpy()[ku]
        event_ids = c.event_ids.to_numpy()[ke]
        for start in range(0, len(p), step):
            idx = np.arange(start, min(start + step, len(p)))
            p[idx] = self.truth.probability(
                user_ids[idx // len(ke)],
                event_ids[idx % len(ke)],
                at_s,
                {k: v[idx] for k, v in state.items()},
                until=FAR_FUTURE_S,
            )
        out[np.ix_(known_u, known_e)] = p.reshape(len(ku), len(ke))
        return out
