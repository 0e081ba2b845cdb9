"""The heterogeneous graph the GNN passes messages on, built from a ``History``.

Node types: user, event, host, category, city. Edge types: every relationship of the schema that
exists at the history's moment (friendships, going registrations, invitations, views, follows,
ratings, hosting, running a host, categories, cities), each with its reverse so that messages
flow both ways. Node features are static attributes plus activity counted at that moment; there
are no per-node id embeddings, so the model is inductive: a new user or event is embedded from its
features and neighbours without retraining.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from torch_geometric.data import HeteroData

from gnn.history import N_LOCAL_SLOTS, Catalog, History

TEXT_DIMS = 16
N_LOCALES = 12


@dataclass
class FeatureEncoder:
    """Fitted vocabularies for node features (kept in the model folder)."""

    locales: list[str]
    categories: list[str]
    text_vectorizer: TfidfVectorizer | None
    text_svd: TruncatedSVD | None

    @classmethod
    def fit(cls, catalog: Catalog, seed: int = 0) -> FeatureEncoder:
        locales = (
            catalog.users["locale"].fillna("").astype(str).value_counts().index.tolist()
            if "locale" in catalog.users
            else []
        )
        locales = [loc for loc in locales if loc][:N_LOCALES]
        texts = _event_texts(catalog)
        vectorizer: TfidfVectorizer | None = None
        svd: TruncatedSVD | None = None
        if sum(bool(t.strip()) for t in texts) >= 50:
            vectorizer = TfidfVectorizer(min_df=2, max_features=20_000, sublinear_tf=True)
            matrix = vectorizer.fit_transform(texts)
            dims = min(TEXT_DIMS, matrix.shape[1] - 1)
            if dims >= 2:
                svd = TruncatedSVD(n_components=dims, random_state=seed).fit(matrix)
            else:
                vectorizer = None
        return cls(
            locales=locales,
            categories=list(catalog.categories),
            text_vectorizer=vectorizer,
            text_svd=svd,
        )

    def category_rows(self, catalog: Catalog) -> np.ndarray:
        """The encoder's category index of each event (-1 for a category it has not seen)."""
        import pandas as pd

        known = pd.Index(self.categories)
        return known.get_indexer(catalog.events["category"].fillna("").astype(str))

    def text_features(self, catalog: Catalog) -> np.ndarray:
        out = np.zeros((catalog.n_events, TEXT_DIMS), np.float32)
        if self.text_vectorizer is None or self.text_svd is None or catalog.n_events == 0:
            return out
        reduced = self.text_svd.transform(self.text_vectorizer.transform(_event_texts(catalog)))
        out[:, : reduced.shape[1]] = reduced
        return out


def _event_texts(catalog: Catalog) -> list[str]:
    ev = catalog.events
    parts = [ev[c].fillna("").astype(str) for c in ("title", "description") if c in ev]
    if "tags" in ev:
        parts.append(
            ev["tags"].map(
                lambda t: " ".join(t) if isinstance(t, list | tuple | np.ndarray) else ""
            )
        )
    if not parts:
        return [""] * catalog.n_events
    joined = parts[0]
    for p in parts[1:]:
        joined = joined + " " + p
    return joined.tolist()


def _onehot(index: np.ndarray, width: int) -> np.ndarray:
    """One-hot rows; index -1 (unknown) gives an all-zero row."""
    out = np.zeros((len(index), max(width, 1)), np.float32)
    known = index >= 0
    out[np.nonzero(known)[0], index[known]] = 1.0
    return out


def _user_features(history: History, encoder: FeatureEncoder) -> np.ndarray:
    c = history.catalog
    users = c.users
    year = pd_numeric(users.get("birth_year"), len(users))
    now_year = 1970 + history.now_ms / (365.25 * 24 * 3_600_000)
    age = now_year - year
    age_bucket = np.select(
        [np.isnan(age), age < 25, age < 35, age < 45, age < 55], [-1, 0, 1, 2, 3], default=4
    )
    gender = users["gender"].fillna("").astype(str).str.lower() if "gender" in users else None
    gender_idx = (
        np.select([gender == "female", gender == "male", gender != ""], [0, 1, 2], default=-1)
        if gender is not None
        else np.full(len(users), -1)
    )
    locale = users["locale"].fillna("").astype(str) if "locale" in users else None
    locale_idx = (
        np.array([encoder.locales.index(x) if x in encoder.locales else -1 for x in locale])
        if locale is not None
        else np.full(len(users), -1)
    )
    activity = history.user_going_count
    n_follows = np.asarray(history.follows.sum(axis=1)).ravel()
    n_friends = np.asarray(history.friends.sum(axis=1)).ravel()
    return np.hstack(
        [
            _onehot(age_bucket, 5),
            _onehot(gender_idx, 3),
            _onehot(locale_idx, N_LOCALES),
            _user_profile(history, encoder),
            np.stack(
                [
                    np.nan_to_num(c.user_lat) / 90.0,
                    np.nan_to_num(c.user_lon) / 180.0,
                    np.log1p(activity),
                    (activity > 0).astype(np.float64),
                    np.log1p(n_follows),
                    np.log1p(n_friends),
                ],
                axis=1,
            ),
        ]
    ).astype(np.float32)


def _shares(matrix: sp.spmatrix, onehot: np.ndarray) -> np.ndarray:
    counts = np.asarray(matrix @ onehot)
    return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)


def _user_profile(history: History, encoder: FeatureEncoder) -> np.ndarray:
    """What the user's own past says about their taste, as node features.

    Going registrations are few per user; views are several times more and, being what the user
    chose to look at, reveal the same preferences more noisily. For each: the share per category,
    per local time-of-week slot and the mean text vector of those events (taste beyond the
    category: tags and titles), plus the number of events viewed.
    """
    c = history.catalog
    going = (history.going > 0).astype(np.float32)
    viewed = (history.viewed > 0).astype(np.float32)
    categories = _onehot(encoder.category_rows(c), len(encoder.categories))
    slots = _onehot(c.event_slot, N_LOCAL_SLOTS)
    text = encoder.text_features(c)
    n_viewed = np.asarray(viewed.sum(axis=1)).ravel()
    parts = []
    for matrix in (going, viewed):
        n = np.maximum(np.asarray(matrix.sum(axis=1)).ravel(), 1.0)[:, None]
        parts += [
            _shares(matrix, categories),
            _shares(matrix, slots),
            np.asarray(matrix @ text) / n,
        ]
    return np.hstack([*parts, np.log1p(n_viewed)[:, None]]).astype(np.float32)


def pd_numeric(column: object, n: int) -> np.ndarray:
    import pandas as pd

    if column is None:
        return np.full(n, np.nan)
    return pd.to_numeric(column, errors="coerce").to_numpy(np.float64)


def _event_features(history: History, encoder: FeatureEncoder) -> np.ndarray:
    c = history.catalog
    capacity = pd_numeric(c.events.get("capacity"), c.n_events)
    hour_of_week = c.event_bucket.astype(np.float64) / 28.0 * 2 * np.pi
    host_pop = np.zeros(c.n_events)
    known = c.event_host >= 0
    host_pop[known] = history.host_popularity[c.event_host[known]]
    # How much of the announcement window (created -> start) has passed: people decide once,
    # so an event announced long ago has had most of its audience's decisions already.
    window = c.event_start - c.event_created
    elapsed = np.where(
        window > 0, np.clip((history.now_ms - c.event_created) / np.maximum(window, 1.0), 0, 1), 0.0
    )
    elapsed = np.nan_to_num(elapsed, nan=0.0)
    return np.hstack(
        [
            _onehot(encoder.category_rows(c), len(encoder.categories)),
            _onehot(c.event_slot, N_LOCAL_SLOTS),
            elapsed[:, None],
            np.stack(
                [
                    c.event_log_price,
                    (c.event_log_price == 0).astype(np.float64),
                    np.log1p(np.nan_to_num(capacity)),
                    np.sin(hour_of_week),
                    np.cos(hour_of_week),
                    (c.event_bucket >= 20).astype(np.float64),  # Saturday or Sunday
                    np.nan_to_num(c.event_lat) / 90.0,
                    np.nan_to_num(c.event_lon) / 180.0,
                    np.log1p(history.event_popularity),
                    np.log1p(host_pop),
                ],
                axis=1,
            ),
            encoder.text_features(c),
        ]
    ).astype(np.float32)


def _host_features(history: History) -> np.ndarray:
    c = history.catalog
    n_events = np.bincount(c.event_host[c.event_host >= 0], minlength=c.n_hosts)
    kind = c.hosts["kind"].fillna("").astype(str) if "kind" in c.hosts else None
    kind_idx = (
        np.select([kind == "person", kind == "organisation"], [0, 1], default=-1)
        if kind is not None
        else np.full(c.n_hosts, -1)
    )
    followers = np.asarray(history.follows.sum(axis=0)).ravel()
    return np.hstack(
        [
            _onehot(kind_idx, 2),
            np.stack(
                [np.log1p(n_events), np.log1p(history.host_popularity), np.log1p(followers)],
                axis=1,
            ),
        ]
    ).astype(np.float32)


def _category_vocab_rows(catalog: Catalog, encoder: FeatureEncoder) -> np.ndarray:
    import pandas as pd

    return pd.Index(encoder.categories).get_indexer(pd.Index(catalog.categories))


def _city_features(catalog: Catalog) -> np.ndarray:
    n = max(len(catalog.cities), 1)
    lat = np.zeros(n)
    lon = np.zeros(n)
    users = np.zeros(n)
    for rows, lats, lons in (
        (catalog.user_city, catalog.user_lat, catalog.user_lon),
        (catalog.event_city, catalog.event_lat, catalog.event_lon),
    ):
        known = (rows >= 0) & ~np.isnan(lats) & ~np.isnan(lons)
        lat += np.bincount(rows[known], weights=lats[known], minlength=n)
        lon += np.bincount(rows[known], weights=lons[known], minlength=n)
        users += np.bincount(rows[known], minlength=n)
    count = np.maximum(users, 1)
    user_count = np.bincount(catalog.user_city[catalog.user_city >= 0], minlength=n)
    return np.stack([lat / count / 90.0, lon / count / 180.0, np.log1p(user_count)], axis=1).astype(
        np.float32
    )


def _edges(matrix: sp.spmatrix) -> torch.Tensor:
    coo = sp.coo_matrix(matrix)
    return torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))


def _pairs(rows: np.ndarray, cols: np.ndarray) -> torch.Tensor:
    keep = (rows >= 0) & (cols >= 0)
    return torch.from_numpy(np.vstack([rows[keep], cols[keep]]).astype(np.int64))


def build_hetero_data(history: History, encoder: FeatureEncoder) -> HeteroData:
    """The message-passing graph at ``history.now_ms``, with node features."""
    c = history.catalog
    data = HeteroData()
    data["user"].x = torch.from_numpy(_user_features(history, encoder))
    data["event"].x = torch.from_numpy(_event_features(history, encoder))
    data["host"].x = torch.from_numpy(_host_features(history))
    # Categories are identified by the encoder's vocabulary, cities by where they are and how
    # many people live there: both stay meaningful on a catalog the model was not trained on.
    data["category"].x = torch.from_numpy(
        _onehot(_category_vocab_rows(c, encoder), len(encoder.categories))
    )
    data["city"].x = torch.from_numpy(_city_features(c))

    events = np.arange(c.n_events)
    relations: dict[tuple[str, str, str], torch.Tensor] = {
        ("user", "friends_with", "user"): _edges(history.friends),
        ("user", "registered", "event"): _edges(history.going),
        ("user", "invited_to", "event"): _edges(history.invited),
        ("user", "viewed", "event"): _edges(history.viewed),
        ("user", "rated", "event"): _edges(history.ratings),
        ("user", "follows", "host"): _edges(history.follows),
        ("host", "hosts", "event"): _pairs(c.event_host, events),
        ("event", "in_category", "category"): _pairs(events, c.event_category),
        ("event", "in_city", "city"): _pairs(events, c.event_city),
        ("user", "lives_in", "city"): _pairs(np.arange(c.n_users), c.user_city),
    }
    if "user_id" in c.hosts:
        runner = c.user_rows(c.hosts["user_id"].fillna("").astype(str))
        relations[("user", "runs", "host")] = _pairs(runner, np.arange(c.n_hosts))
    for (src, rel, dst), index in relations.items():
        if index.size(1) == 0:
            continue
        data[src, rel, dst].edge_index = index
        if src != dst:
            data[dst, f"rev_{rel}", src].edge_index = index.flip(0)
    return data
