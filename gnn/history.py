"""What the graph knew at a moment: the state every feature, model and baseline reads.

``Catalog`` maps ids to row numbers and holds the attributes that do not change over time.
``History.at(tables, catalog, now)`` keeps only what happened at or before ``now`` (registrations,
invitations, views, follows, friendships, ratings) as sparse matrices over that catalog, and
derives the per-user, per-event and per-pair aggregates the features need. Building features
only through a ``History`` is what keeps training and evaluation free of leakage: there is no
other door to the data.

Relationships that carry no time (Meetup memberships, friendships without ``since``) count as
known at any moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp

from graph.export import GraphTables

#: Time-of-week buckets: 7 days x 4 parts of the day (night, morning, afternoon, evening).
N_TIME_BUCKETS = 28
MS_PER_HOUR = 3_600_000.0


#: Local time-of-week slots: weekday day, weekday evening, weekend day, weekend evening.
N_LOCAL_SLOTS = 4
#: Local hour from which a start counts as evening.
EVENING_HOUR = 17


def local_slot(epoch_ms: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Weekend x evening slot in the venue's local time, as an index in [0, 4).

    The graph stores no time zone, so local time is the zone of the venue's longitude (15 degrees
    an hour; UTC where the longitude is unknown). People plan their week in local time: a
    weekday-evening habit is the same slot in Sydney and in Chicago, which the UTC buckets of
    :func:`time_bucket` cannot say.
    """
    offset_h = np.round(np.nan_to_num(np.asarray(lon, np.float64), nan=0.0) / 15.0)
    local = np.nan_to_num(epoch_ms, nan=0.0) + offset_h * MS_PER_HOUR
    day, hour = _day_and_hour(local)
    weekend = day >= 5
    evening = hour >= EVENING_HOUR
    return (2 * weekend + evening).astype(np.int64)


def _day_and_hour(epoch_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Day of week (Monday = 0) and hour of day of epoch milliseconds, in UTC.

    Plain integer arithmetic (1970-01-01 was a Thursday) rather than ``pd.to_datetime``: the
    same answer for any time, including those outside pandas' nanosecond range (years before
    1677 or after 2262), and no Timestamp objects on the request path.
    """
    ms = np.floor(np.asarray(epoch_ms, np.float64))
    days = np.floor_divide(ms, 86_400_000.0)
    day_of_week = np.mod(days + 3, 7).astype(np.int64)
    hour = np.floor_divide(ms - days * 86_400_000.0, MS_PER_HOUR).astype(np.int64)
    return day_of_week, hour


def time_bucket(epoch_ms: np.ndarray) -> np.ndarray:
    """Day of week (Monday = 0) x part of day, in UTC, as an index in [0, 28)."""
    day, hour = _day_and_hour(np.nan_to_num(np.asarray(epoch_ms, np.float64), nan=0.0))
    return (day * 4 + hour // 6).astype(np.int64)


@dataclass
class Catalog:
    """Ids <-> rows, and the static attributes of users, events and hosts."""

    user_ids: pd.Index
    event_ids: pd.Index
    host_ids: pd.Index
    categories: pd.Index
    cities: pd.Index
    users: pd.DataFrame  # aligned with user_ids
    events: pd.DataFrame  # aligned with event_ids
    hosts: pd.DataFrame  # aligned with host_ids
    event_host: np.ndarray  # host row of each event
    event_category: np.ndarray  # category row, -1 when unknown
    event_city: np.ndarray  # city row, -1 when unknown
    user_city: np.ndarray
    event_start: np.ndarray  # epoch ms
    event_created: np.ndarray  # epoch ms, NaN when unknown
    event_lat: np.ndarray
    event_lon: np.ndarray
    event_log_price: np.ndarray  # log1p(price), 0 for free or unknown
    event_bucket: np.ndarray
    user_lat: np.ndarray
    user_lon: np.ndarray

    @classmethod
    def from_tables(cls, tables: GraphTables) -> Catalog:
        users = tables.users.drop_duplicates("id").reset_index(drop=True)
        events = tables.events.drop_duplicates("id").reset_index(drop=True)
        hosts = tables.hosts.drop_duplicates("id").reset_index(drop=True)
        categories = pd.Index(sorted(events["category"].dropna().loc[lambda s: s != ""].unique()))
        cities = pd.Index(sorted(set(events["city"].dropna()) | set(users["city"].dropna()) - {""}))
        host_ids = pd.Index(hosts["id"])
        start = events["start_time"].to_numpy(np.float64)
        price = pd.to_numeric(events["price"], errors="coerce").fillna(0.0).clip(lower=0)
        return cls(
            user_ids=pd.Index(users["id"]),
            event_ids=pd.Index(events["id"]),
            host_ids=host_ids,
            categories=categories,
            cities=cities,
            users=users,
            events=events,
            hosts=hosts,
            event_host=host_ids.get_indexer(events["host_id"]),
            event_category=categories.get_indexer(events["category"].fillna("")),
            event_city=cities.get_indexer(events["city"].fillna("")),
            user_city=cities.get_indexer(users["city"].fillna("")),
            event_start=start,
            event_created=events["created_at"].to_numpy(np.float64),
            event_lat=events["lat"].to_numpy(np.float64),
            event_lon=events["lon"].to_numpy(np.float64),
            event_log_price=np.log1p(price.to_numpy(np.float64)),
            event_bucket=time_bucket(start),
            user_lat=users["lat"].to_numpy(np.float64),
            user_lon=users["lon"].to_numpy(np.float64),
        )

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_events(self) -> int:
        return len(self.event_ids)

    @property
    def n_hosts(self) -> int:
        return len(self.host_ids)

    @cached_property
    def event_slot(self) -> np.ndarray:
        """Each event's local time-of-week slot (:func:`local_slot`)."""
        return local_slot(self.event_start, self.event_lon)

    def user_rows(self, ids: pd.Series | np.ndarray | list[str]) -> np.ndarray:
        return self.user_ids.get_indexer(pd.Index(ids))

    def event_rows(self, ids: pd.Series | np.ndarray | list[str]) -> np.ndarray:
        return self.event_ids.get_indexer(pd.Index(ids))


def _known(times: pd.Series, now_ms: float) -> np.ndarray:
    """True where the time is at or before ``now`` or absent (timeless facts are always known)."""
    t = times.to_numpy(np.float64)
    return np.isnan(t) | (t <= now_ms)


def _matrix(
    rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int], values: np.ndarray | None = None
) -> sp.csr_matrix:
    keep = (rows >= 0) & (cols >= 0)
    data = np.ones(keep.sum(), np.float32) if values is None else values[keep].astype(np.float32)
    m = sp.csr_matrix((data, (rows[keep], cols[keep])), shape=shape)
    m.sum_duplicates()
    return m


class History:
    """Everything known at ``now`` (epoch ms), as sparse matrices over a ``Catalog``."""

    def __init__(self, tables: GraphTables, catalog: Catalog, now_ms: float) -> None:
        self.catalog = catalog
        self.now_ms = float(now_ms)
        c = catalog
        regs = tables.registrations[_known(tables.registrations["at"], now_ms)]
        u, e = c.user_rows(regs["user_id"]), c.event_rows(regs["event_id"])
        status = regs["status"].fillna("going").to_numpy()
        going = status == "going"
        self.going = _matrix(u[going], e[going], (c.n_users, c.n_events))
        self.responded = _matrix(u, e, (c.n_users, c.n_events))
        declined = status == "declined"
        self.declined_per_event = np.bincount(e[declined & (e >= 0)], minlength=c.n_events).astype(
            np.float64
        )

        fr = tables.friendships[_known(tables.friendships["since"], now_ms)]
        a, b = c.user_rows(fr["user_id"]), c.user_rows(fr["friend_id"])
        half = _matrix(a, b, (c.n_users, c.n_users))
        self.friends = ((half + half.T) > 0).astype(np.float32).tocsr()

        inv = tables.invitations[_known(tables.invitations["at"], now_ms)]
        self.invited = (
            _matrix(c.user_rows(inv["user_id"]), c.event_rows(inv["event_id"]),
                    (c.n_users, c.n_events)) > 0
        ).astype(np.float32).tocsr()  # fmt: skip
        views = tables.views[_known(tables.views["at"], now_ms)]
        self.viewed = _matrix(
            c.user_rows(views["user_id"]), c.event_rows(views["event_id"]),
            (c.n_users, c.n_events),
            pd.to_numeric(views["count"], errors="coerce").fillna(1).to_numpy(),
        )  # fmt: skip
        fol = tables.follows[_known(tables.follows["at"], now_ms)]
        self.follows = (
            _matrix(c.user_rows(fol["user_id"]), c.host_ids.get_indexer(fol["host_id"]),
                    (c.n_users, c.n_hosts)) > 0
        ).astype(np.float32).tocsr()  # fmt: skip
        rat = tables.ratings[_known(tables.ratings["at"], now_ms)]
        self.ratings = _matrix(
            c.user_rows(rat["user_id"]), c.event_rows(rat["event_id"]), (c.n_users, c.n_events),
            pd.to_numeric(rat["stars"], errors="coerce").fillna(0).to_numpy(),
        )  # fmt: skip

    @classmethod
    def at(cls, tables: GraphTables, catalog: Catalog, now_ms: float) -> History:
        return cls(tables, catalog, now_ms)

    # --- one-hot maps from events to their host / category / time bucket ----------------------
    def _event_onehot(self, cols: np.ndarray, width: int) -> sp.csr_matrix:
        rows = np.arange(self.catalog.n_events)
        return _matrix(rows, cols, (self.catalog.n_events, max(width, 1)))

    # --- per-user aggregates ---------------------------------------------------------------
    @cached_property
    def user_going_count(self) -> np.ndarray:
        return np.asarray(self.going.sum(axis=1)).ravel()

    @cached_property
    def user_host_going(self) -> sp.csr_matrix:
        """Going registrations of each user with each host (users x hosts)."""
        c = self.catalog
        return (self.going @ self._event_onehot(c.event_host, c.n_hosts)).tocsr()

    @cached_property
    def user_category_share(self) -> np.ndarray:
        c = self.catalog
        counts = (self.going @ self._event_onehot(c.event_category, len(c.categories))).toarray()
        return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)

    @cached_property
    def user_bucket_share(self) -> np.ndarray:
        c = self.catalog
        counts = (self.going @ self._event_onehot(c.event_bucket, N_TIME_BUCKETS)).toarray()
        return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)

    @cached_property
    def user_slot_share(self) -> np.ndarray:
        """Share of each user's going registrations in each local slot (users x 4)."""
        counts = (self.going @ self._event_onehot(self.catalog.event_slot, N_LOCAL_SLOTS)).toarray()
        return counts / np.maximum(counts.sum(axis=1, keepdims=True), 1.0)

    @cached_property
    def user_venue_centroid(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean venue coordinates of each user's going registrations (home where none)."""
        c = self.catalog
        n = np.maximum(self.user_going_count, 1.0)
        lat = np.asarray(self.going @ np.nan_to_num(c.event_lat)).ravel() / n
        lon = np.asarray(self.going @ np.nan_to_num(c.event_lon)).ravel() / n
        none = self.user_going_count == 0
        return np.where(none, c.user_lat, lat), np.where(none, c.user_lon, lon)

    @cached_property
    def user_mean_log_price(self) -> np.ndarray:
        n = np.maximum(self.user_going_count, 1.0)
        return np.asarray(self.going @ self.catalog.event_log_price).ravel() / n

    # --- per-event aggregates ----------------------------------------------------------------
    @cached_property
    def event_popularity(self) -> np.ndarray:
        """Going registrations of each event so far."""
        return np.asarray(self.going.sum(axis=0)).ravel()

    @cached_property
    def host_popularity(self) -> np.ndarray:
        """Going registrations with each host's events so far."""
        c = self.catalog
        return np.bincount(
            c.event_host[c.event_host >= 0],
            weights=self.event_popularity[c.event_host >= 0],
            minlength=c.n_hosts,
        )

    @cached_property
    def event_decline_share(self) -> np.ndarray:
        responses = np.asarray(self.responded.sum(axis=0)).ravel()
        return self.declined_per_event / np.maximum(responses, 1.0)

    # --- per-pair aggregates ------------------------------------------------------------------
    @cached_property
    def friends_going(self) -> sp.csr_matrix:
        """How many of each user's friends have a going registration (users x events)."""
        return (self.friends @ self.going).tocsr()

    def pair_lookup(self, matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``matrix[rows[i], cols[i]]`` for every i, as a dense float array."""
        if len(rows) == 0:
            return np.zeros(0, np.float64)
        return np.asarray(matrix[rows, cols]).ravel().astype(np.float64)
