"""The temporal split every offline number is measured on, and the inner training window.

Protocol (``eventgraph evaluate``; the same rules whatever graph is loaded):

* **Cutoff T** — given, or by default the 80th percentile of the ``at`` times of the going
  registrations (:func:`default_cutoff`).
* **Known past** — :func:`truncate` drops every relationship row whose time is after T
  (registrations, invitations, views, follows, ratings by ``at``; friendships by ``since``) and
  keeps rows without a time (Meetup memberships, friendships without ``since``: known at T) and
  every node row. Models are fitted on the truncated tables only, so nothing after T can reach
  them: leakage is impossible by construction, not by discipline.
* **Test positives** — going registrations with ``at`` > T for events that start after T.
* **Candidates of a test user** — every event that starts after T, minus the events the user had
  any registration with (any status) at or before T. A test positive on such an excluded event
  cannot be ranked; it is dropped and counted in ``protocol.positives_on_excluded`` (the graph
  keeps one REGISTERED edge per user and event, so this is normally 0).
* **Test users** — the users with at least one test positive; the others are left out.

:func:`supervision_window` replays the same rules one step back in time, inside the known past:
an inner cutoff ``T_in`` < T, the history at ``T_in`` as input, the going registrations in
``(T_in, T]`` for events starting after ``T_in`` as labels. LightGBM (and the GNN) learn from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from gnn.history import Catalog, History
from graph.export import GraphTables

#: The time column of every relationship table (node tables are never truncated).
TIME_COLUMNS: dict[str, str] = {
    "friendships": "since",
    "registrations": "at",
    "invitations": "at",
    "views": "at",
    "follows": "at",
    "ratings": "at",
}
DEFAULT_QUANTILE = 0.8
#: Inner cutoff as a quantile of the going times at or before T: with the default T (the 0.8
#: quantile of all going times) this is the 0.65 quantile of all of them (0.65 / 0.8 = 0.8125).
DEFAULT_INNER_QUANTILE = 0.65 / 0.8


def going_mask(registrations: pd.DataFrame) -> np.ndarray:
    """Rows that are going registrations (a missing status means going, as in ``History``)."""
    if registrations.empty:
        return np.zeros(0, bool)
    return (registrations["status"].fillna("going") == "going").to_numpy()


def going_times(tables: GraphTables) -> np.ndarray:
    """The ``at`` times (epoch ms) of the going registrations, NaN dropped."""
    regs = tables.registrations
    if regs.empty:
        return np.zeros(0)
    t = regs["at"].to_numpy(np.float64)[going_mask(regs)]
    return t[~np.isnan(t)]


def default_cutoff(tables: GraphTables, quantile: float = DEFAULT_QUANTILE) -> float:
    """The ``quantile`` of the going registrations' times (epoch ms)."""
    t = going_times(tables)
    if len(t) == 0:
        raise ValueError("the graph has no going registration with a time: no temporal split")
    return float(np.quantile(t, quantile))


def truncate(tables: GraphTables, cutoff_ms: float) -> GraphTables:
    """What was known at ``cutoff_ms``: relationship rows with a time after it are dropped.

    Rows without a time are kept (timeless facts count as known), node tables are kept whole.
    """
    out = {}
    for f in fields(GraphTables):
        frame = getattr(tables, f.name)
        column = TIME_COLUMNS.get(f.name)
        if column is not None and column in frame.columns and len(frame):
            t = pd.to_numeric(frame[column], errors="coerce").to_numpy(np.float64)
            frame = frame[np.isnan(t) | (t <= cutoff_ms)]
        out[f.name] = frame.reset_index(drop=True) if column is not None else frame
    return GraphTables(**out)


def max_time(tables: GraphTables) -> float:
    """The latest relationship time in the tables (NaN when there is none); used by leak checks."""
    latest = np.nan
    for name, column in TIME_COLUMNS.items():
        frame = getattr(tables, name)
        if column in frame.columns and len(frame):
            t = pd.to_numeric(frame[column], errors="coerce").to_numpy(np.float64)
            if (~np.isnan(t)).any():
                latest = np.nanmax([latest, np.nanmax(t)])
    return float(latest)


def _pairs_to_matrix(u: np.ndarray, e: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    m = sp.csr_matrix((np.ones(len(u), np.float32), (u, e)), shape=shape)
    m.sum_duplicates()
    m.data[:] = 1.0
    return m


def _going_after(
    tables: GraphTables, catalog: Catalog, start_ms: float, end_ms: float
) -> tuple[np.ndarray, np.ndarray]:
    """(user row, event row) of going registrations with ``start < at <= end`` for events that
    start after ``start``; unknown ids dropped."""
    regs = tables.registrations
    if regs.empty:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    t = regs["at"].to_numpy(np.float64)
    keep = going_mask(regs) & (t > start_ms) & (t <= end_ms)
    rows = regs[keep]
    u = catalog.user_rows(rows["user_id"])
    e = catalog.event_rows(rows["event_id"])
    ok = (u >= 0) & (e >= 0)
    u, e = u[ok], e[ok]
    ok = catalog.event_start[e] > start_ms
    return u[ok].astype(np.int64), e[ok].astype(np.int64)


@dataclass
class TemporalSplit:
    """The test side of the protocol (see the module docstring).

    ``positives`` and ``excluded`` are (n_users x n_events) over the catalog; ``open_events`` are
    the event rows starting after T (sorted); ``test_users`` the user rows with a test positive.
    """

    cutoff_ms: float
    catalog: Catalog
    open_events: np.ndarray
    test_users: np.ndarray
    positives: sp.csr_matrix
    excluded: sp.csr_matrix
    positives_on_excluded: int
    cold_users: np.ndarray  # bool per catalog user: no registration (any status) at or before T
    cold_events: np.ndarray  # bool per catalog event: no registration at or before T

    @property
    def n_test_positives(self) -> int:
        return int(self.positives.nnz)

    def candidate_mask(self, users: np.ndarray) -> np.ndarray:
        """(len(users), len(open_events)) bool: the users' candidates among the open events."""
        return ~(self.excluded[users][:, self.open_events].toarray() > 0)

    def positive_mask(self, users: np.ndarray) -> np.ndarray:
        return self.positives[users][:, self.open_events].toarray() > 0


def make_split(
    tables: GraphTables, catalog: Catalog, cutoff_ms: float | None = None
) -> TemporalSplit:
    """Test users, positives and candidate exclusions at ``cutoff_ms`` (default: 0.8 quantile)."""
    cutoff = default_cutoff(tables) if cutoff_ms is None else float(cutoff_ms)
    shape = (catalog.n_users, catalog.n_events)
    past = History.at(truncate(tables, cutoff), catalog, cutoff)
    excluded = (past.responded > 0).astype(np.float32).tocsr()
    u, e = _going_after(tables, catalog, cutoff, np.inf)
    positives = _pairs_to_matrix(u, e, shape)
    on_excluded = positives.multiply(excluded).tocsr()
    on_excluded.eliminate_zeros()
    n_on_excluded = int(on_excluded.nnz)
    if n_on_excluded:
        positives = (positives - on_excluded).tocsr()
        positives.eliminate_zeros()
    users_with = np.flatnonzero(np.diff(positives.indptr) > 0)
    return TemporalSplit(
        cutoff_ms=cutoff,
        catalog=catalog,
        open_events=np.flatnonzero(catalog.event_start > cutoff),
        test_users=users_with,
        positives=positives,
        excluded=excluded,
        positives_on_excluded=n_on_excluded,
        cold_users=np.diff(excluded.indptr) == 0,
        cold_events=np.asarray(excluded.sum(axis=0)).ravel() == 0,
    )


# --- the inner window ---------------------------------------------------------------------------
@dataclass
class SupervisionWindow:
    """One step back in time inside the known past: what learned rankers train on.

    * ``inner_cutoff_ms`` = T_in < ``cutoff_ms`` = T; ``history`` is the graph at T_in (the only
      input a model may read while learning: features, message passing).
    * labels: the going registrations in (T_in, T] for events starting after T_in, on events
      the user had not responded to by T_in, as pairs ``pos_user[i], pos_event[i]`` (catalog rows,
      unique) and as the matrix ``positives`` (n_users x n_events).
    * ``users``: the training users (those with a label); ``open_events``: events starting after
      T_in — a training user's candidates are these minus ``history.responded`` (the test rule
      replayed at T_in).

    Since the labels are registrations the history does not contain, a model trained here never
    reads its answer off the graph. :meth:`ranking_pairs` turns the window into listwise groups.
    """

    cutoff_ms: float
    inner_cutoff_ms: float
    history: History
    users: np.ndarray
    open_events: np.ndarray
    pos_user: np.ndarray
    pos_event: np.ndarray
    positives: sp.csr_matrix = field(repr=False)

    def candidate_mask(self, users: np.ndarray) -> np.ndarray:
        """(len(users), len(open_events)) bool: each user's candidates at T_in."""
        return ~(self.history.responded[users][:, self.open_events].toarray() > 0)

    def ranking_pairs(
        self,
        n_hard: int = 50,
        n_random: int = 50,
        seed: int = 0,
        users: np.ndarray | None = None,
        batch_users: int = 1000,
    ) -> RankingPairs:
        """Per training user: all positives, the ``n_hard`` best candidates by the host rule (past
        going registrations with the host, then follows, then popularity — the negatives a
        production funnel actually shows) and ``n_random`` random other candidates.

        Rows are grouped by user (users ascending, then events ascending inside a group);
        ``groups`` holds the group sizes in that order, as LightGBM's ``group`` expects.
        """
        from gnn.baselines import host_rule_scores  # the one host-rule implementation

        rng = np.random.default_rng(seed)
        users = self.users if users is None else np.asarray(users, np.int64)
        users = np.sort(users)
        out_u, out_e, out_y, sizes = [], [], [], []
        for start in range(0, len(users), batch_users):
            block = users[start : start + batch_users]
            cand = self.candidate_mask(block)
            pos = self.positives[block][:, self.open_events].toarray() > 0
            chosen = pos.copy()
            if n_hard > 0 and len(self.open_events):
                s = host_rule_scores(self.history, block, self.open_events)
                # random order among equal host-rule scores (steps are >= 1 / (popularity + 1))
                s = s + rng.random(s.shape) * 1e-7
                s = np.where(cand & ~pos, s, -np.inf)
                k = min(n_hard, s.shape[1])
                top = np.argpartition(-s, k - 1, axis=1)[:, :k]
                rows = np.repeat(np.arange(len(block)), k)
                sel = np.isfinite(s[rows, top.ravel()])
                chosen[rows[sel], top.ravel()[sel]] = True
            if n_random > 0 and len(self.open_events):
                r = rng.random(cand.shape)
                r[~cand | chosen] = -1.0
                k = min(n_random, r.shape[1])
                top = np.argpartition(-r, k - 1, axis=1)[:, :k]
                rows = np.repeat(np.arange(len(block)), k)
                sel = r[rows, top.ravel()] >= 0
                chosen[rows[sel], top.ravel()[sel]] = True
            rr, cc = np.nonzero(chosen)  # row-major: grouped by user, events ascending
            out_u.append(block[rr])
            out_e.append(self.open_events[cc])
            out_y.append(pos[rr, cc].astype(np.float32))
            sizes.append(np.bincount(rr, minlength=len(block)))
        if not out_u:
            empty = np.zeros(0, np.int64)
            return RankingPairs(empty, empty, np.zeros(0, np.float32), empty)
        sizes_all = np.concatenate(sizes)
        return RankingPairs(
            users=np.concatenate(out_u),
            events=np.concatenate(out_e),
            labels=np.concatenate(out_y),
            groups=sizes_all[sizes_all > 0],
        )


@dataclass
class RankingPairs:
    """Supervised (user, event) pairs grouped by user: ``groups[i]`` consecutive rows per user."""

    users: np.ndarray
    events: np.ndarray
    labels: np.ndarray
    groups: np.ndarray

    def __len__(self) -> int:
        return len(self.users)

    def subset_users(self, keep_users: np.ndarray) -> RankingPairs:
        keep = np.isin(self.users, keep_users)
        group_user = self.users[np.cumsum(self.groups) - 1] if len(self.groups) else self.users
        return replace(
            self,
            users=self.users[keep],
            events=self.events[keep],
            labels=self.labels[keep],
            groups=self.groups[np.isin(group_user, keep_users)],
        )


def inner_cutoff(
    tables: GraphTables, cutoff_ms: float, quantile: float = DEFAULT_INNER_QUANTILE
) -> float:
    """T_in: the ``quantile`` of the going registrations' times at or before ``cutoff_ms``."""
    t = going_times(tables)
    t = t[t <= cutoff_ms]
    if len(t) == 0:
        raise ValueError("no going registration at or before the cutoff: nothing to learn from")
    return float(np.quantile(t, quantile))


def supervision_window(
    tables: GraphTables,
    catalog: Catalog,
    cutoff_ms: float,
    quantile: float = DEFAULT_INNER_QUANTILE,
    inner_cutoff_ms: float | None = None,
) -> SupervisionWindow:
    """The inner training window before ``cutoff_ms`` (see :class:`SupervisionWindow`).

    ``tables`` are truncated at ``cutoff_ms`` here again, so a caller that passes the full graph
    cannot leak either. ``inner_cutoff_ms`` overrides the quantile rule.
    """
    known = truncate(tables, cutoff_ms)
    t_in = inner_cutoff(known, cutoff_ms, quantile) if inner_cutoff_ms is None else inner_cutoff_ms
    if not t_in < cutoff_ms:
        raise ValueError("the inner cutoff must come before the cutoff")
    history = History.at(known, catalog, t_in)
    u, e = _going_after(known, catalog, t_in, cutoff_ms)
    already = history.pair_lookup(history.responded, u, e) > 0
    positives = _pairs_to_matrix(u[~already], e[~already], (catalog.n_users, catalog.n_events))
    coo = positives.tocoo()
    order = np.lexsort((coo.col, coo.row))
    pos_user, pos_event = coo.row[order].astype(np.int64), coo.col[order].astype(np.int64)
    return SupervisionWindow(
        cutoff_ms=float(cutoff_ms),
        inner_cutoff_ms=float(t_in),
        history=history,
        users=np.unique(pos_user),
        open_events=np.flatnonzero(catalog.event_start > t_in),
        pos_user=pos_user,
        pos_event=pos_event,
        positives=positives,
    )
