"""Scoring live requests with a trained model: embeddings, feature assembly, one batched call.

``ServingModel.from_graph(model_dir, driver)`` loads the model folder, reads the graph once
(``graph.export``) and embeds every node as of that moment (the **snapshot**). A request then
needs no graph-wide work:

1. **Candidates** come from ``graph.candidates.candidates_for(..., profile=True)``: one Cypher
   round trip that also returns the user's profile (home, going registrations with their events,
   views, followed hosts) and, per candidate, the facts of the moment (friends going, invited).
2. **Features**: ``assemble`` turns that answer into a small ``History`` (one user, the candidate
   and past events) and calls the one feature implementation, ``gnn.features.pair_features``,
   on it. Only four aggregates are not the user's own: friends going (from the query) and the
   event/host counters (going registrations, declines, responses), which the snapshot counted
   with the same ``History`` code and ``record_registration`` keeps current on every write.
   Offline (training, evaluation) the same function reads a ``History`` of the whole graph; a
   test checks that both give the same matrix.
3. **Scores**: one ``EventRecommender.decode`` call for all candidates.

Nodes the snapshot has not seen (an event or user created since) are embedded **inductively**:
their input features and their links to the host, category and city (whose layer states the
snapshot keeps) go through the encoder's layers for that one node, exactly as the full-graph
forward pass would compute a node with those neighbours (tested against it). No retraining.

Thread safety: requests run in a thread pool; the counters and the embedding caches change under
one lock, scoring reads them without it (a dict read is atomic in CPython).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from neo4j import Driver
from torch import Tensor
from torch_geometric.data import HeteroData

from gnn.data import FeatureEncoder, _event_features, _user_features, build_hetero_data
from gnn.features import pair_features
from gnn.history import Catalog, History, time_bucket
from gnn.model import EventRecommender
from gnn.model_ranker import GNNRanker
from graph.candidates import CandidateSet, UserProfile
from graph.export import GraphTables, export_graph, read_by_ids

#: Columns of the small tables ``_tables`` builds to embed new nodes (what ``Catalog`` and
#: ``History`` read), and which of them are times or coordinates (float).
_TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("id", "lat", "lon", "city"),
    "events": ("id", "host_id", "category", "city", "start_time", "created_at", "lat", "lon",
               "price"),
    "hosts": ("id",),
    "friendships": ("user_id", "friend_id", "since"),
    "registrations": ("user_id", "event_id", "at", "status"),
    "invitations": ("user_id", "event_id", "at"),
    "views": ("user_id", "event_id", "at", "count"),
    "follows": ("user_id", "host_id", "at"),
    "ratings": ("user_id", "event_id", "stars", "at"),
}  # fmt: skip
_FLOAT_COLUMNS = {"at", "since", "start_time", "created_at", "lat", "lon"}
#: The id a newcomer (a location, no account) gets inside the per-request History.
NEWCOMER_ID = "\x00newcomer"


def layer_states(
    model: EventRecommender, x_dict: dict[str, Tensor], edge_index_dict: dict[Any, Tensor]
) -> list[dict[str, Tensor]]:
    """Every node's state before the first layer and after each layer (eval mode, no dropout).

    The same computation as ``HeteroSAGEEncoder.forward``; the last entry equals
    ``model.embed(...)`` (tests/test_inference.py checks it), the others let ``embed_node``
    run one new node through the layers.
    """
    enc = model.encoder
    with torch.no_grad():
        h = {t: torch.relu(enc.input[t](x)) for t, x in x_dict.items()}
        states = [h]
        for conv, norms in zip(enc.convs, enc.norms, strict=True):
            out = conv(h, edge_index_dict)
            h = {t: norms[t](h[t] + torch.relu(out[t])) if t in out else h[t] for t in h}
            states.append(h)
    return states


@dataclass
class Counters:
    """Event and host aggregates that are not the user's own, kept current on every write."""

    event_going: dict[str, float] = field(default_factory=dict)
    event_declined: dict[str, float] = field(default_factory=dict)
    event_responses: dict[str, float] = field(default_factory=dict)
    host_going: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_history(cls, history: History) -> Counters:
        c = history.catalog
        responses = np.asarray(history.responded.sum(axis=0)).ravel()
        return cls(
            event_going=dict(zip(c.event_ids, history.event_popularity.tolist(), strict=True)),
            event_declined=dict(zip(c.event_ids, history.declined_per_event.tolist(), strict=True)),
            event_responses=dict(zip(c.event_ids, responses.tolist(), strict=True)),
            host_going=dict(zip(c.host_ids, history.host_popularity.tolist(), strict=True)),
        )


@dataclass
class Scored:
    """The model's view of one candidate set: features, probabilities, timings."""

    event_ids: list[str]
    features: np.ndarray  # (n, N_FEATURES), the pair features
    scores: np.ndarray  # (n,), probability of registering (sigmoid of the logit)
    timings_ms: dict[str, float]


class ServingModel:
    """A trained model plus a snapshot of the graph's embeddings and counters."""

    def __init__(
        self,
        model: EventRecommender,
        encoder: FeatureEncoder,
        meta: dict[str, Any],
        tables: GraphTables,
        now_ms: float,
    ) -> None:
        self.model = model
        self.encoder = encoder
        self.meta = meta
        self.version = str(meta.get("version", "unknown"))
        threads = int(meta.get("train", {}).get("threads", 1))
        torch.set_num_threads(max(threads, 1))
        self.snapshot_ms = float(now_ms)
        self.catalog = Catalog.from_tables(tables)
        history = History.at(tables, self.catalog, now_ms)
        data: HeteroData = build_hetero_data(history, encoder)
        self.edge_types = list(data.edge_index_dict)
        self.states = layer_states(model, data.x_dict, data.edge_index_dict)
        emb = self.states[-1]
        self._user_emb: dict[str, Tensor] = dict(
            zip(self.catalog.user_ids, emb["user"], strict=True)
        )
        self._event_emb: dict[str, Tensor] = dict(
            zip(self.catalog.event_ids, emb["event"], strict=True)
        )
        self.counters = Counters.from_history(history)
        self._event_host: dict[str, str | None] = dict(
            zip(self.catalog.event_ids, self.catalog.events["host_id"], strict=True)
        )
        self._lock = threading.Lock()
        self._category_row = {name: i for i, name in enumerate(self.catalog.categories)}
        self._city_row = {name: i for i, name in enumerate(self.catalog.cities)}
        self._host_row = {hid: i for i, hid in enumerate(self.catalog.host_ids)}

    # --- construction ------------------------------------------------------------------------
    @classmethod
    def from_graph(
        cls,
        model_dir: Path,
        driver: Driver,
        database: str | None = None,
        now_ms: float | None = None,
    ) -> ServingModel:
        """Load ``model_dir`` and embed the graph as it is in Neo4j now (or at ``now_ms``)."""
        ranker = GNNRanker.load(Path(model_dir))
        assert ranker.model is not None and ranker.encoder is not None
        tables = export_graph(driver, database)
        now = time.time() * 1000.0 if now_ms is None else float(now_ms)
        return cls(ranker.model, ranker.encoder, ranker.meta, tables, now)

    @property
    def n_users(self) -> int:
        return len(self._user_emb)

    @property
    def n_events(self) -> int:
        return len(self._event_emb)

    # --- writes ------------------------------------------------------------------------------
    def record_registration(
        self, event_id: str, host_id: str | None, previous: str | None, status: str
    ) -> None:
        """Update the counters for a registration written with ``status`` (was ``previous``)."""
        if previous == status:
            return
        with self._lock:
            c = self.counters
            host = host_id if host_id is not None else self._event_host.get(event_id)
            delta_going = float(status == "going") - float(previous == "going")
            c.event_going[event_id] = c.event_going.get(event_id, 0.0) + delta_going
            if host is not None:
                c.host_going[host] = c.host_going.get(host, 0.0) + delta_going
            c.event_declined[event_id] = (
                c.event_declined.get(event_id, 0.0)
                + float(status == "declined")
                - float(previous == "declined")
            )
            if previous is None:
                c.event_responses[event_id] = c.event_responses.get(event_id, 0.0) + 1.0

    def forget_events(self, event_ids: Iterable[str]) -> None:
        """Drop cached embeddings (an event changed): they are computed again on next use."""
        with self._lock:
            for eid in event_ids:
                self._event_emb.pop(eid, None)
                self._event_host.pop(eid, None)

    def forget_users(self, user_ids: Iterable[str]) -> None:
        with self._lock:
            for uid in user_ids:
                self._user_emb.pop(uid, None)

    # --- inductive embeddings ----------------------------------------------------------------
    def embed_node(self, node_type: str, x: Tensor, neighbours: dict[Any, list[int]]) -> Tensor:
        """The final embedding of one node not in the snapshot, from its input features ``x``
        ([1, F]) and its neighbours (snapshot rows per incoming edge type)."""
        enc = self.model.encoder
        incoming = [et for et in self.edge_types if et[2] == node_type]
        with torch.no_grad():
            h = torch.relu(enc.input[node_type](x))
            for layer, (conv, norms) in enumerate(zip(enc.convs, enc.norms, strict=True)):
                total: Tensor | None = None
                for et in incoming:
                    rows = neighbours.get(et, [])
                    src = self.states[layer][et[0]]
                    x_src = src[rows] if rows else src[:0]
                    index = torch.tensor(
                        [list(range(len(rows))), [0] * len(rows)], dtype=torch.long
                    )
                    out = conv.convs[et]((x_src, h), index)
                    total = out if total is None else total + out
                if total is not None:
                    h = norms[node_type](h + torch.relu(total))
        return h[0]

    def _embed_events(self, frame: pd.DataFrame) -> dict[str, Tensor]:
        """Embeddings of events (rows with the columns of ``export_events``)."""
        if frame.empty:
            return {}
        mini = _tables(events=frame, hosts=pd.DataFrame({"id": frame["host_id"].dropna().unique()}))
        catalog = Catalog.from_tables(mini)
        history = History.at(mini, catalog, self.snapshot_ms)
        self._override_aggregates(history, np.zeros((1, catalog.n_events)))
        x = torch.from_numpy(_event_features(history, self.encoder))
        out: dict[str, Tensor] = {}
        for i, row in enumerate(frame.itertuples(index=False)):
            nbrs: dict[Any, list[int]] = {}
            for et, key, rows in (
                (("host", "hosts", "event"), row.host_id, self._host_row),
                (("category", "rev_in_category", "event"), row.category, self._category_row),
                (("city", "rev_in_city", "event"), row.city, self._city_row),
            ):
                if key in rows:
                    nbrs[et] = [rows[key]]
            out[row.id] = self.embed_node("event", x[i : i + 1], nbrs)
        return out

    def _embed_users(self, frame: pd.DataFrame) -> dict[str, Tensor]:
        if frame.empty:
            return {}
        mini = _tables(users=frame)
        catalog = Catalog.from_tables(mini)
        history = History.at(mini, catalog, self.snapshot_ms)
        x = torch.from_numpy(_user_features(history, self.encoder))
        out: dict[str, Tensor] = {}
        for i, row in enumerate(frame.itertuples(index=False)):
            city = getattr(row, "city", None)
            nbrs = (
                {("city", "rev_lives_in", "user"): [self._city_row[city]]}
                if city in self._city_row
                else {}
            )
            out[row.id] = self.embed_node("user", x[i : i + 1], nbrs)
        return out

    def ensure_embedded(
        self, driver: Driver, user_ids: list[str], event_ids: list[str], database: str | None = None
    ) -> None:
        """Embed the users and events the snapshot has not seen (read from Neo4j)."""
        new_users = [u for u in dict.fromkeys(user_ids) if u not in self._user_emb]
        new_events = [e for e in dict.fromkeys(event_ids) if e not in self._event_emb]
        if new_events:
            frame = read_by_ids(driver, "event", new_events, database)
            embedded = self._embed_events(frame)
            with self._lock:
                self._event_emb.update(embedded)
                self._event_host.update(zip(frame["id"], frame["host_id"], strict=True))
        if new_users:
            embedded = self._embed_users(read_by_ids(driver, "user", new_users, database))
            with self._lock:
                self._user_emb.update(embedded)

    def newcomer_embedding(self, lat: float, lon: float) -> Tensor:
        """A person with a location and nothing else (no account yet)."""
        frame = pd.DataFrame([{"id": NEWCOMER_ID, "lat": lat, "lon": lon, "city": None}])
        return self._embed_users(frame)[NEWCOMER_ID]

    # --- one request -------------------------------------------------------------------------
    def _override_aggregates(self, history: History, friends_going: np.ndarray) -> None:
        """Put the aggregates that are not the user's own into a per-request ``History``."""
        c = history.catalog
        ids = list(c.event_ids)
        going = self.counters.event_going
        declined = self.counters.event_declined
        responses = self.counters.event_responses
        hosts = self.counters.host_going
        # cached_property values live in the instance dict: setting them there is how a
        # per-request History takes the snapshot's (and the writes') counts.
        history.__dict__["event_popularity"] = np.array([going.get(e, 0.0) for e in ids])
        history.__dict__["event_decline_share"] = np.array(
            [declined.get(e, 0.0) / max(responses.get(e, 0.0), 1.0) for e in ids]
        )
        history.__dict__["host_popularity"] = np.array([hosts.get(h, 0.0) for h in c.host_ids])
        history.__dict__["friends_going"] = sp.csr_matrix(friends_going)

    def assemble(
        self, cset: CandidateSet, now_ms: float, home: tuple[float, float] | None = None
    ) -> np.ndarray:
        """The pair-feature matrix of a candidate set, with ``gnn.features.pair_features``.

        ``home`` replaces the profile's home (newcomers: the request's location).
        """
        history = self.request_history(cset, now_ms, home)
        n = len(cset.items)
        return pair_features(history, np.zeros(n, np.int64), np.arange(n, dtype=np.int64))

    def request_history(
        self, cset: CandidateSet, now_ms: float, home: tuple[float, float] | None = None
    ) -> History:
        """A ``History`` of one user at ``now_ms``: the candidates (rows 0..n-1) and the events
        the user went to, with the user's own facts from the candidate query's profile.

        Built from arrays rather than through ``Catalog.from_tables`` / ``History.at`` (the same
        fields, without a pandas round trip: a request has a few milliseconds). The matrices mean
        what ``History.__init__`` makes of the same rows; tests/test_api.py checks the features
        against a ``History`` of the whole graph. ``responded`` is the going matrix and
        ``declined_per_event`` zero: the only feature reading them (decline share) comes from
        the counters, like event and host popularity and friends going.
        """
        profile = cset.profile or _NO_PROFILE
        lat, lon = home if home is not None else (profile.lat, profile.lon)
        items = cset.items
        went = profile.went
        n, m = len(items), len(went)
        ids = [c.event_id for c in items] + [p.event_id for p in went]
        hosts = [c.host_id for c in items] + [p.host_id for p in went]
        categories = [c.category for c in items] + [p.category for p in went]
        host_ids = pd.Index(
            list(dict.fromkeys([h for h in hosts if h is not None] + profile.followed_host_ids))
        )
        host_row = {h: i for i, h in enumerate(host_ids)}
        category_index = pd.Index(sorted({x for x in categories if x}))
        category_row = {x: i for i, x in enumerate(category_index)}
        start = np.array(
            [np.nan if c.start_time is None else c.start_time.timestamp() * 1000.0 for c in items]
            + [np.nan if p.start_ms is None else p.start_ms for p in went],
            np.float64,
        )
        price = np.array([_number(c.price) for c in items] + [_number(p.price) for p in went])
        e_lat = np.array(
            [_number(c.lat, np.nan) for c in items] + [_number(p.lat, np.nan) for p in went]
        )
        e_lon = np.array(
            [_number(c.lon, np.nan) for c in items] + [_number(p.lon, np.nan) for p in went]
        )
        n_events = n + m
        catalog = Catalog(
            user_ids=pd.Index([cset.user_id if cset.known_user else NEWCOMER_ID]),
            event_ids=pd.Index(ids),
            host_ids=host_ids,
            categories=category_index,
            cities=pd.Index([]),
            users=_NO_FRAME,
            events=_NO_FRAME,
            hosts=_NO_FRAME,
            event_host=np.array([host_row.get(h, -1) for h in hosts], np.int64),
            event_category=np.array([category_row.get(x, -1) for x in categories], np.int64),
            event_city=np.full(n_events, -1, np.int64),
            user_city=np.full(1, -1, np.int64),
            event_start=start,
            event_created=np.full(n_events, np.nan),
            event_lat=e_lat,
            event_lon=e_lon,
            event_log_price=np.log1p(np.clip(price, 0.0, None)),
            event_bucket=time_bucket(start),
            user_lat=np.array([_number(lat, np.nan)]),
            user_lon=np.array([_number(lon, np.nan)]),
        )
        row = {e: i for i, e in enumerate(ids)}
        history = History.__new__(History)
        history.catalog = catalog
        history.now_ms = float(now_ms)
        history.going = _row_matrix(np.arange(n, n_events), np.ones(m), n_events)
        history.responded = history.going
        history.declined_per_event = np.zeros(n_events)
        history.friends = sp.csr_matrix((1, 1), dtype=np.float32)
        history.invited = _row_matrix(
            np.array([i for i, c in enumerate(items) if c.invited_by], np.int64),
            np.ones(sum(1 for c in items if c.invited_by)),
            n_events,
        )
        seen = [
            (row[v[0]], 1.0 if v[2] is None else float(v[2])) for v in profile.views if v[0] in row
        ]
        history.viewed = _row_matrix(
            np.array([s[0] for s in seen], np.int64), np.array([s[1] for s in seen]), n_events
        )
        followed = np.array([host_row[h] for h in profile.followed_host_ids], np.int64)
        history.follows = _row_matrix(followed, np.ones(len(followed)), len(host_ids))
        history.ratings = _row_matrix(np.zeros(0, np.int64), np.zeros(0), n_events)
        friends = np.zeros((1, n_events))
        friends[0, :n] = [c.friends_going for c in items]
        self._override_aggregates(history, friends)
        return history

    def score(
        self,
        driver: Driver,
        cset: CandidateSet,
        now_ms: float,
        home: tuple[float, float] | None = None,
        database: str | None = None,
    ) -> Scored:
        """Features and scores for every candidate of ``cset``, in one model call."""
        t0 = time.perf_counter()
        ids = cset.event_ids
        features = self.assemble(cset, now_ms, home)
        t1 = time.perf_counter()
        known = cset.known_user and cset.user_id is not None
        self.ensure_embedded(driver, [cset.user_id] if known else [], ids, database)  # type: ignore[list-item]
        if known:
            h_user = self._user_emb[cset.user_id]  # type: ignore[index]
        else:
            lat, lon = home if home is not None else (0.0, 0.0)
            h_user = self.newcomer_embedding(lat, lon)
        if ids:
            h_events = torch.stack([self._event_emb[e] for e in ids])
            emb = {"user": h_user[None, :], "event": h_events}
            with torch.no_grad():
                logits = self.model.decode(
                    emb,
                    torch.zeros(len(ids), dtype=torch.long),
                    torch.arange(len(ids)),
                    torch.from_numpy(features),
                )
            scores = torch.sigmoid(logits).numpy().astype(np.float64)
        else:
            scores = np.zeros(0)
        t2 = time.perf_counter()
        return Scored(
            ids, features, scores, {"features": (t1 - t0) * 1000.0, "score": (t2 - t1) * 1000.0}
        )


def _number(value: object, missing: float = 0.0) -> float:
    return missing if value is None else float(value)  # type: ignore[arg-type]


def _row_matrix(cols: np.ndarray, values: np.ndarray, width: int) -> sp.csr_matrix:
    """A 1 x ``width`` sparse row (duplicates summed, like ``History``'s matrices)."""
    m = sp.csr_matrix(
        (values.astype(np.float32), (np.zeros(len(cols), np.int64), cols)), shape=(1, width)
    )
    m.sum_duplicates()
    return m


_NO_PROFILE = UserProfile(None, None, [], [], [])
_NO_FRAME = pd.DataFrame()


def _tables(**frames: pd.DataFrame) -> GraphTables:
    """A ``GraphTables`` with the given frames and empty (typed) ones for the rest."""
    empty = {
        name: pd.DataFrame(
            {c: pd.Series([], dtype=np.float64 if c in _FLOAT_COLUMNS else object) for c in cols}
        )
        for name, cols in _TABLE_COLUMNS.items()
        if name not in frames
    }
    return GraphTables(**frames, **empty)


__all__ = ["Counters", "Scored", "ServingModel", "layer_states"]
