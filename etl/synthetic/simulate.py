"""The time-ordered simulation: who registers, invites, views, follows and rates, day by day.

Why day by day: two planted effects feed on the past. Social contagion needs friends' earlier
registrations and host loyalty needs earlier attendance, so decisions must be drawn in time order
with the state as it was. Days are the step: every decision of day *d* sees the state as of
00:00 UTC of day *d* (see `choice_model`), then the day's outcomes update the state.

Each day:

1. Effects that become visible today are applied: friends' registrations (from the day after the
   registration, or after the friendship started if that is later), attendance of events that
   started yesterday (host loyalty), follows and invitations made yesterday.
2. Events announced today get their candidate users: everyone whose home or second metro is the
   event's metro and who joined before it starts. Each pair gets its consideration moment
   (`consideration.py`) and its static logit (computed once, as dense users x events blocks);
   pairs considering before `now` are put on that day's agenda.
3. Today's agenda (plus pairs an invitation brought forward) is decided with the planted choice
   model, vectorised. Positive decisions become `going` (or `waitlist` once the event is full,
   in order of time) or `maybe` (a per-user habit). Negative decisions leave no registration,
   except that invited people often answer `declined` and a few viewers do too.
4. Consequences: positive registrants may invite friends (who then consider the event a day or
   two later if they had not yet; a friend from another metro considers it only then),
   everyone who decided may have viewed the event (all registrants did; non-registrants with a
   probability rising with their utility), people who attended a host twice may start
   following it, and friends' state counts grow.

Ratings are drawn at the end, for `going` registrations of events that ended before `now`.

Bookkeeping uses sorted int64 key arrays (`KeySet`): pair keys are `event_row * n_users +
user_row` or `user_row * n_hosts + host_row`. Insertion is a linear merge and lookups are binary
searches, so a 100 000-user world (about 200 million candidate pairs) runs in a few minutes in
bounded memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from etl.synthetic.catalog import Catalog
from etl.synthetic.choice_model import (
    ChoiceParams,
    ChoiceState,
    UserBlock,
    interest_score,
    pair_features,
    state_logit,
    static_logit,
    static_logit_block,
    user_block,
)
from etl.synthetic.consideration import consideration_times
from etl.synthetic.geo import METROS
from etl.synthetic.population import DAY_S, Population

GOING, MAYBE, DECLINED, WAITLIST = 0, 1, 2, 3
STATUS_NAMES: tuple[str, ...] = ("going", "maybe", "declined", "waitlist")

#: Views: a non-registrant looked at the event with probability
#: sigmoid(VIEW_SLOPE * (logit - market) + market + VIEW_SHIFT), market being the metro's
#: attention-budget term. A slope below 1 makes browsing less selective than registering, so the
#: share of viewers who register rises with their interest, as on real platforms (with slope 1
#: it would be the same for everyone and views would carry no signal); the market term keeps
#: views per user independent of the catalogue's size, like registrations.
VIEW_SLOPE = 0.6
VIEW_SHIFT = 0.5
#: Negative decisions recorded as `declined`: after an invitation, and (rarely) after a view.
DECLINE_IF_INVITED = 0.45
DECLINE_IF_VIEWED = 0.02
#: Invitations: a runner of a user-run host invites this many friends per event on average.
RUNNER_INVITES = 3.0
#: Extra friends a registrant who invites invites beyond the first (Poisson mean).
EXTRA_INVITES = 0.7
#: Invited people who had not decided yet look at the event 1, 2, ... days later (geometric).
INVITE_RESPONSE_P = 0.55
#: Organic follows (without attendance) per user, on average, scaled by follow propensity.
ORGANIC_FOLLOWS = 1.2


class KeySet:
    """A sorted multiset of int64 keys (unique keys + counts) with batch insert and lookups.

    Lookups are binary searches, fastest when the queries are sorted (numpy reuses the previous
    position); inserts merge a sorted batch in linear time.
    """

    def __init__(self) -> None:
        self.keys = np.empty(0, dtype=np.int64)
        self.counts = np.empty(0, dtype=np.int32)

    def add(self, new: np.ndarray) -> None:
        if new.size == 0:
            return
        uniq, cnt = np.unique(new.astype(np.int64, copy=False), return_counts=True)
        pos = np.searchsorted(self.keys, uniq)
        hit = pos < self.keys.size
        hit[hit] = self.keys[pos[hit]] == uniq[hit]
        if hit.any():
            self.counts[pos[hit]] += cnt[hit].astype(np.int32)
        miss = ~hit
        if miss.any():
            self.keys = np.insert(self.keys, pos[miss], uniq[miss])
            self.counts = np.insert(self.counts, pos[miss], cnt[miss].astype(np.int32))

    def _find(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.minimum(np.searchsorted(self.keys, q), self.keys.size - 1)
        return pos, self.keys[pos] == q

    def count(self, q: np.ndarray) -> np.ndarray:
        if self.keys.size == 0:
            return np.zeros(q.shape[0], dtype=np.int64)
        pos, found = self._find(q)
        return np.where(found, self.counts[pos], 0).astype(np.int64)

    def contains(self, q: np.ndarray) -> np.ndarray:
        if self.keys.size == 0:
            return np.zeros(q.shape[0], dtype=bool)
        return self._find(q)[1]

    def keep(self, mask_fn: Callable[[np.ndarray], np.ndarray]) -> None:
        if self.keys.size:
            mask = mask_fn(self.keys)
            self.keys = self.keys[mask]
            self.counts = self.counts[mask]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function; cheaper than scipy's expit for the simulator's hot loop."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


@dataclass
class DecisionLog:
    """A sample of simulated decisions with the exact state and logit used (for tests)."""

    user: list[np.ndarray] = field(default_factory=list)
    event: list[np.ndarray] = field(default_factory=list)
    day: list[np.ndarray] = field(default_factory=list)
    state: list[np.ndarray] = field(default_factory=list)
    logit: list[np.ndarray] = field(default_factory=list)
    positive: list[np.ndarray] = field(default_factory=list)

    def arrays(self) -> dict[str, np.ndarray]:
        if not self.user:
            return {}
        return {"user": np.concatenate(self.user), "event": np.concatenate(self.event),
                "day": np.concatenate(self.day), "state": np.concatenate(self.state),
                "logit": np.concatenate(self.logit), "positive": np.concatenate(self.positive)}


@dataclass
class Activity:
    """All relationship rows produced by the simulation (rows, not yet formatted)."""

    reg_user: np.ndarray
    reg_event: np.ndarray
    reg_at: np.ndarray
    reg_status: np.ndarray
    inv_user: np.ndarray
    inv_event: np.ndarray
    inv_by: np.ndarray
    inv_at: np.ndarray
    view_user: np.ndarray
    view_event: np.ndarray
    view_at: np.ndarray
    view_count: np.ndarray
    follow_user: np.ndarray
    follow_host: np.ndarray
    follow_at: np.ndarray
    rating_user: np.ndarray
    rating_event: np.ndarray
    rating_stars: np.ndarray
    rating_at: np.ndarray
    decisions: int


class _Rows:
    """Column accumulator: lists of arrays per column, concatenated once at the end."""

    def __init__(self, *names: str) -> None:
        self.cols: dict[str, list[np.ndarray]] = {n: [] for n in names}

    def append(self, **values: np.ndarray) -> None:
        for k, v in values.items():
            self.cols[k].append(v)

    def get(self, name: str, dtype: type | np.dtype) -> np.ndarray:
        parts = self.cols[name]
        return np.concatenate(parts).astype(dtype) if parts else np.empty(0, dtype=dtype)


def _csr(pop: Population) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Undirected adjacency as CSR (indptr, neighbour, since) sorted by source user."""
    src = np.concatenate([pop.friend_a, pop.friend_b])
    dst = np.concatenate([pop.friend_b, pop.friend_a])
    since = np.concatenate([pop.friend_since, pop.friend_since])
    order = np.lexsort((dst, src))
    indptr = np.zeros(pop.n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=pop.n), out=indptr[1:])
    return indptr, dst[order], since[order]


def _expand(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All CSR positions of `rows`: (index into rows, CSR position) for every neighbour."""
    deg = indptr[rows + 1] - indptr[rows]
    total = int(deg.sum())
    owner = np.repeat(np.arange(rows.size), deg)
    starts = np.repeat(indptr[rows], deg)
    offsets = np.arange(total) - np.repeat(np.cumsum(deg) - deg, deg)
    return owner, starts + offsets


class Simulation:
    """State and daily step of the registration process (see the module docstring)."""

    def __init__(self, rng: np.random.Generator, pop: Population, cat: Catalog,
                 params: ChoiceParams, now_s: int, salt: int,
                 log: DecisionLog | None = None, log_rng: np.random.Generator | None = None,
                 log_rate: float = 0.0) -> None:
        self.rng = rng
        self.pop = pop
        self.cat = cat
        self.params = params
        self.now_s = now_s
        self.salt = salt
        self.log = log
        self.log_rng = log_rng
        self.log_rate = log_rate
        self.N = pop.n
        self.H = cat.n_hosts
        self.E = cat.n_events
        self.indptr, self.nbr, self.nbr_since = _csr(pop)
        self.start_day = cat.start // DAY_S
        self.first_day = int(cat.created.min() // DAY_S)
        self.last_day = int((now_s - 1) // DAY_S)
        self.cand_by_metro = [
            np.flatnonzero((pop.metro == m) | (pop.second_metro == m)) for m in range(len(METROS))
        ]
        self.events_by_created_day: dict[int, np.ndarray] = {}
        cday = cat.created // DAY_S
        order = np.argsort(cday, kind="stable")
        days, first = np.unique(cday[order], return_index=True)
        for d, chunk in zip(days, np.split(order, first[1:]), strict=True):
            self.events_by_created_day[int(d)] = chunk
        self.offset_h = np.array([m.utc_offset_h for m in METROS])[cat.event_metro]

        self.expo = KeySet()
        self.hostgo = KeySet()
        self.follows = KeySet()
        self.invited = KeySet()
        self.invited_all = KeySet()
        self.early = KeySet()
        self.positive = KeySet()
        self.popularity = np.zeros(self.E, dtype=np.float64)
        self.going = np.zeros(self.E, dtype=np.int64)
        self.blocks: dict[int, UserBlock] = {}
        self.user_flag = np.zeros(self.N, dtype=bool)  # has any attendance or follow
        # day -> chunks of (event rows int32, user rows int32, static logit), each chunk sorted
        # by (event, user)
        self.schedule: dict[int, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = (
            defaultdict(list))
        self.triggered: dict[int, list[np.ndarray]] = defaultdict(list)
        self.pending_expo: dict[int, list[np.ndarray]] = defaultdict(list)
        self.pending_hostgo: dict[int, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        self.pending_follow: dict[int, list[np.ndarray]] = defaultdict(list)
        self.pending_inv: dict[int, list[np.ndarray]] = defaultdict(list)
        self.regs = _Rows("u", "e", "at", "status")
        self.invs = _Rows("u", "e", "by", "at")
        self.views = _Rows("u", "e", "at", "count")
        self.fols = _Rows("u", "h", "at")
        self.decisions = 0

    # ----------------------------------------------------------------- set-up ---------------
    def organic_follows(self) -> None:
        """Follows without attendance: people follow hosts of their scene they like the look of.

        Known up front because they do not depend on registrations; each takes effect the day
        after it happens, like every other state change.
        """
        pop, cat, rng = self.pop, self.cat, self.rng
        host_first = np.full(self.H, np.iinfo(np.int64).max)
        np.minimum.at(host_first, cat.event_host, cat.created)
        n_f = rng.poisson(ORGANIC_FOLLOWS * pop.follow_propensity)
        users = np.repeat(np.arange(self.N), n_f)
        if users.size == 0 or self.H == 0:
            return
        hosts_by_metro = [np.flatnonzero(cat.host_metro == m) for m in range(len(METROS))]
        chosen = np.full(users.size, -1, dtype=np.int64)
        metro = pop.metro[users]
        for m in range(len(METROS)):
            sel = np.flatnonzero(metro == m)
            pool = hosts_by_metro[m]
            if sel.size == 0 or pool.size == 0:
                continue
            cand = pool[rng.integers(0, pool.size, (sel.size, 8))]
            u = users[sel]
            interest = interest_score(pop.latents.theta[u[:, None], cat.host_specialties[cand, 0]],
                                      -3.0)
            taste = np.einsum("id,ijd->ij", pop.latents.taste[u], cat.host_style[cand])
            score = interest + 1.5 * taste + 0.5 * cat.host_quality[cand] + rng.gumbel(
                size=cand.shape)
            chosen[sel] = cand[np.arange(sel.size), np.argmax(score, axis=1)]
        ok = chosen >= 0
        users, chosen = users[ok], chosen[ok]
        lo = np.maximum(pop.joined_at[users], host_first[chosen])
        ok = lo < self.now_s - 3600
        users, chosen, lo = users[ok], chosen[ok], lo[ok]
        at = lo + (rng.random(users.size) * (self.now_s - 3600 - lo)).astype(np.int64)
        self.fols.append(u=users, h=chosen, at=at)
        keys = users * self.H + chosen
        eff = at // DAY_S + 1
        early = eff <= self.first_day
        self.follows.add(keys[early])
        self.user_flag[users[early]] = True
        for d in np.unique(eff[~early]):
            self.pending_follow[int(d)].append(keys[eff == d])

    # ----------------------------------------------------------------- the day loop ---------
    def run(self, on_day: Callable[[int, int], None] | None = None) -> Activity:
        total = self.last_day - self.first_day + 1
        for i, d in enumerate(range(self.first_day, self.last_day + 1)):
            self.step(d)
            if on_day is not None:
                on_day(i + 1, total)
        return self.finish()

    def step(self, d: int) -> None:
        self._apply_pending(d)
        self._announce(d)
        self._decide(d)
        if d % 7 == 0:
            self._compact(d)

    def _apply_pending(self, d: int) -> None:
        # Attendance first: a second attendance can create a follow that counts from today.
        self._apply_attendance(d)
        for pending, keyset in ((self.pending_expo, self.expo),
                                (self.pending_inv, self.invited),
                                (self.pending_follow, self.follows)):
            parts = pending.pop(d, [])
            if parts:
                keys = np.concatenate(parts)
                keyset.add(keys)
                if keyset is self.follows:
                    self.user_flag[keys // self.H] = True

    def _apply_attendance(self, d: int) -> None:
        batches = self.pending_hostgo.pop(d, [])
        if not batches:
            return
        keys = np.concatenate([b[0] for b in batches])
        ends = np.concatenate([b[1] for b in batches])
        before = self.hostgo.count(keys)
        self.hostgo.add(keys)
        self.user_flag[keys // self.H] = True
        # Second attendance: some people start following the host.
        second = np.flatnonzero(before == 1)
        if second.size == 0:
            return
        k2 = keys[second]
        k2, first = np.unique(k2, return_index=True)
        e2 = ends[second][first]
        u2 = k2 // self.H
        p = np.minimum(self.pop.follow_propensity[u2] + 0.1, 1.0)
        go = (self.rng.random(k2.size) < p) & ~self.follows.contains(k2)
        at = e2 + (self.rng.exponential(2.0, k2.size) * DAY_S).astype(np.int64)
        go &= at < self.now_s
        if go.any():
            k2, at = k2[go], at[go]
            self.fols.append(u=k2 // self.H, h=k2 % self.H, at=at)
            eff = at // DAY_S + 1
            for day in np.unique(eff):
                self.pending_follow[int(day)].append(k2[eff == day])

    def _announce(self, d: int) -> None:
        """Score the candidate pairs of events announced today and put them on their days.

        The static part of the logit is computed here, once per pair, as dense users x events
        blocks per metro; it travels with the pair to its consideration day.
        """
        events = self.events_by_created_day.get(d)
        if events is None:
            return
        pop, cat = self.pop, self.cat
        metros = cat.event_metro[events]
        scored: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for m in np.unique(metros):
            ev_m = events[metros == m]
            block = self._block(int(m))
            scored[int(m)] = (ev_m, static_logit_block(self.params, block, cat.latents, ev_m))
        e_parts, u_parts, s_parts, off_parts = [], [], [], []
        for e in events:  # ascending rows, so (event, user) comes out sorted
            ev_m, s_block = scored[int(cat.event_metro[e])]
            j = int(np.searchsorted(ev_m, e))
            cands = self.cand_by_metro[cat.event_metro[e]]
            ok = pop.joined_at[cands] < cat.start[e]
            users = cands[ok]
            if users.size == 0:
                continue
            ev_rep = np.full(users.size, e, dtype=np.int64)
            lo = np.maximum(cat.created[e], pop.joined_at[users])
            tau = consideration_times(ev_rep, users, lo, np.full(users.size, cat.start[e]),
                                      self.salt)
            live = tau < self.now_s
            e_parts.append(ev_rep[live].astype(np.int32))
            u_parts.append(users[live].astype(np.int32))
            s_parts.append(s_block[ok, j][live])
            off_parts.append(tau[live] // DAY_S - d)
        if e_parts:
            ev = np.concatenate(e_parts)
            us = np.concatenate(u_parts)
            svals = np.concatenate(s_parts)
            off = np.concatenate(off_parts).astype(np.int16)
            order = np.argsort(off, kind="stable")
            ev, us, svals, off = ev[order], us[order], svals[order], off[order]
            days, first = np.unique(off, return_index=True)
            bounds = [*first[1:].tolist(), ev.size]
            for day, a, b in zip(days.tolist(), first.tolist(), bounds, strict=True):
                self.schedule[d + day].append((ev[a:b], us[a:b], svals[a:b]))
        self._runner_invitations(d, events)

    def _block(self, m: int) -> UserBlock:
        if m not in self.blocks:
            self.blocks[m] = user_block(self.params, self.pop.latents, self.cand_by_metro[m])
        return self.blocks[m]

    def _runner_invitations(self, d: int, events: np.ndarray) -> None:
        """Runners of user-run hosts invite a few friends when they announce an event."""
        cat, rng = self.cat, self.rng
        runner = cat.host_user[cat.event_host[events]]
        has = runner >= 0
        if not has.any():
            return
        ev, rn = events[has], runner[has]
        k = rng.poisson(RUNNER_INVITES, ev.size)
        owner_rep = np.repeat(np.arange(ev.size), k)
        base_at = cat.created[ev] + (rng.exponential(1.0, ev.size) * DAY_S).astype(np.int64)
        self._invite(ev[owner_rep], rn[owner_rep], base_at[owner_rep])

    def _invite(self, ev: np.ndarray, by: np.ndarray, at: np.ndarray) -> None:
        """`by` invites one random friend each to `ev` at `at` (dropping impossible ones)."""
        if ev.size == 0:
            return
        rng, cat, pop = self.rng, self.cat, self.pop
        deg = self.indptr[by + 1] - self.indptr[by]
        ok = deg > 0
        ev, by, at, deg = ev[ok], by[ok], at[ok], deg[ok]
        pos = self.indptr[by] + (rng.random(by.size) * deg).astype(np.int64)
        friend, since = self.nbr[pos], self.nbr_since[pos]
        ok = (since < at) & (at < cat.start[ev]) & (at < self.now_s)
        ev, by, at, friend = ev[ok], by[ok], at[ok], friend[ok]
        keys = ev * self.N + friend
        keys, first = np.unique(keys, return_index=True)
        ev, by, at, friend = ev[first], by[first], at[first], friend[first]
        ok = ~self.invited_all.contains(keys) & ~self.positive.contains(keys)
        keys, ev, by, at, friend = keys[ok], ev[ok], by[ok], at[ok], friend[ok]
        if keys.size == 0:
            return
        self.invs.append(u=friend, e=ev, by=by, at=at)
        self.invited_all.add(keys)
        inv_day = at // DAY_S
        for day in np.unique(inv_day):
            self.pending_inv[int(day) + 1].append(keys[inv_day == day])
        # Bring the invitee's decision forward if they have not considered the event yet.
        trig = inv_day + rng.geometric(INVITE_RESPONSE_P, keys.size)
        lo = np.maximum(cat.created[ev], pop.joined_at[friend])
        tau = consideration_times(ev, friend, lo, cat.start[ev], self.salt)
        em = cat.event_metro[ev]
        candidate = ((pop.metro[friend] == em) | (pop.second_metro[friend] == em)) & (
            pop.joined_at[friend] < cat.start[ev])
        organic_day = np.where(candidate & (tau < self.now_s), tau // DAY_S,
                               np.iinfo(np.int64).max)
        go = ((organic_day > inv_day) & (trig < organic_day) & (trig <= self.start_day[ev])
              & (trig <= self.last_day) & ~self.early.contains(keys))
        if not go.any():
            return
        keys, trig = keys[go], trig[go]
        self.early.add(keys)
        for day in np.unique(trig):
            self.triggered[int(day)].append(keys[trig == day])

    def _decide(self, d: int) -> None:
        parts = self.schedule.pop(d, [])
        if parts:
            e = np.concatenate([p[0] for p in parts]).astype(np.int64)
            u = np.concatenate([p[1] for p in parts]).astype(np.int64)
            svals = np.concatenate([p[2] for p in parts])
            keys = e * self.N + u
            if len(parts) > 1:
                order = np.argsort(keys, kind="stable")  # merges the sorted runs
                keys, e, u, svals = keys[order], e[order], u[order], svals[order]
            if self.early.keys.size:
                keep = ~self.early.contains(keys)
                keys, e, u, svals = keys[keep], e[keep], u[keep], svals[keep]
        else:
            keys = e = u = np.empty(0, dtype=np.int64)
            svals = np.empty(0, dtype=np.float64)
        trig_parts = self.triggered.pop(d, [])
        if trig_parts:
            tkeys = np.concatenate(trig_parts)
            tu, te = tkeys % self.N, tkeys // self.N
            # The invitee needs a non-empty window today (rare edge: start at midnight).
            lo = np.maximum(np.maximum(self.cat.created[te], self.pop.joined_at[tu]), d * DAY_S)
            hi = np.minimum(np.minimum(self.cat.start[te], self.now_s), (d + 1) * DAY_S)
            ok = hi > lo
            tkeys, tu, te = tkeys[ok], tu[ok], te[ok]
            feats = pair_features(self.params, self.pop.latents, self.cat.latents, tu, te)
            keys = np.concatenate([keys, tkeys])
            e = np.concatenate([e, te])
            u = np.concatenate([u, tu])
            svals = np.concatenate([svals, static_logit(self.params, feats)])
        if keys.size == 0:
            return
        pop, cat, rng = self.pop, self.cat, self.rng
        n = keys.size
        self.decisions += n

        host = cat.event_host[e]
        host_past = np.zeros(n)
        follows = np.zeros(n)
        flagged = np.flatnonzero(self.user_flag[u])
        if flagged.size:
            hkeys = u[flagged] * self.H + host[flagged]
            order = np.argsort(hkeys, kind="stable")  # runs: one per event
            flagged, hkeys = flagged[order], hkeys[order]
            host_past[flagged] = self.hostgo.count(hkeys)
            follows[flagged] = self.follows.contains(hkeys)
        state = ChoiceState(
            friends_registered=self.expo.count(keys).astype(np.float64),
            host_past_going=host_past,
            follows_host=follows,
            popularity=self.popularity[e],
            invited=self.invited.contains(keys).astype(np.float64),
        )
        logit = svals + state_logit(self.params, state)
        positive = rng.random(n) < sigmoid(logit)
        if self.log is not None and self.log_rng is not None:
            pick = np.flatnonzero(self.log_rng.random(n) < self.log_rate)
            if pick.size:
                self.log.user.append(u[pick])
                self.log.event.append(e[pick])
                self.log.day.append(np.full(pick.size, d, dtype=np.int64))
                self.log.state.append(np.stack([state.friends_registered[pick],
                                                state.host_past_going[pick],
                                                state.follows_host[pick],
                                                state.popularity[pick],
                                                state.invited[pick]], axis=1))
                self.log.logit.append(logit[pick])
                self.log.positive.append(positive[pick])

        # Views and declines of the people who said no.
        neg = ~positive
        market = cat.latents.market_offset[e]
        view_logit = VIEW_SLOPE * (logit - market) + market + VIEW_SHIFT
        viewed = neg & (rng.random(n) < sigmoid(view_logit))
        invited = state.invited > 0
        declined = neg & ((invited & (rng.random(n) < DECLINE_IF_INVITED))
                          | (viewed & ~invited & (rng.random(n) < DECLINE_IF_VIEWED)))

        # Only pairs that leave a trace need a clock time: a local-time daily rhythm, within
        # what the pair allows today (after announcement and sign-up, before start and now).
        trace = np.flatnonzero(positive | viewed | declined)
        keys, u, e, logit = keys[trace], u[trace], e[trace], logit[trace]
        positive, viewed, declined = positive[trace], viewed[trace], declined[trace]
        n = trace.size
        lo = np.maximum(np.maximum(cat.created[e], pop.joined_at[u]), d * DAY_S)
        hi = np.minimum(np.minimum(cat.start[e], self.now_s), (d + 1) * DAY_S)
        mix = rng.random(n)
        local_h = np.where(mix < 0.25, rng.normal(12.5, 1.5, n),
                           np.where(mix < 0.7, rng.normal(20.5, 2.0, n),
                                    rng.uniform(7.0, 24.0, n)))
        utc_h = np.mod(local_h - self.offset_h[e], 24.0)
        at = d * DAY_S + (utc_h * 3600).astype(np.int64)
        bad = (at < lo) | (at >= hi)
        at[bad] = lo[bad] + (rng.random(int(bad.sum())) * (hi[bad] - lo[bad])).astype(np.int64)

        # Positive decisions: maybe (a habit) or going, waitlist once the event is full.
        status = np.full(n, DECLINED, dtype=np.int8)
        pos_idx = np.flatnonzero(positive)
        is_maybe = rng.random(pos_idx.size) < pop.maybe_propensity[u[pos_idx]]
        status[pos_idx[is_maybe]] = MAYBE
        g_idx = pos_idx[~is_maybe]
        if g_idx.size:
            order = np.lexsort((at[g_idx], e[g_idx]))
            g_idx = g_idx[order]
            ge = e[g_idx]
            rank = np.arange(ge.size) - np.searchsorted(ge, ge, side="left")
            cap = cat.capacity[ge]
            room = np.where(np.isnan(cap), np.inf, cap - self.going[ge])
            fits = rank < room
            status[g_idx[fits]] = GOING
            status[g_idx[~fits]] = WAITLIST
            np.add.at(self.going, ge[fits], 1)
        record = positive | declined
        r_idx = np.flatnonzero(record)
        self.regs.append(u=u[r_idx], e=e[r_idx], at=at[r_idx], status=status[r_idx])

        # Views: every registrant looked (a little before), plus the viewers who said no.
        v_idx = np.flatnonzero(positive | viewed)
        v_at = at[v_idx].copy()
        before = np.minimum((rng.exponential(1200.0, v_idx.size)).astype(np.int64),
                            v_at - lo[v_idx])
        v_at -= np.where(positive[v_idx], before, 0)
        v_count = 1 + rng.poisson(np.where(positive[v_idx], 1.2, 0.4))
        self.views.append(u=u[v_idx], e=e[v_idx], at=v_at, count=v_count)

        if pos_idx.size == 0:
            return
        pu, pe, pat = u[pos_idx], e[pos_idx], at[pos_idx]
        pkeys = keys[pos_idx]
        np.add.at(self.popularity, pe, 1.0)
        self.positive.add(pkeys)

        # Friends see it from tomorrow (or from when the friendship starts).
        owner, csr_pos = _expand(self.indptr, pu)
        if owner.size:
            fe = pe[owner]
            eff = np.maximum(pat[owner], self.nbr_since[csr_pos]) // DAY_S + 1
            keep = eff <= self.start_day[fe]
            fkeys = fe[keep] * self.N + self.nbr[csr_pos][keep]
            eff = eff[keep]
            for day in np.unique(eff):
                self.pending_expo[int(day)].append(fkeys[eff == day])

        # Attendance counts for host loyalty from the day after the event starts.
        going_idx = pos_idx[status[pos_idx] == GOING]
        if going_idx.size:
            ge = e[going_idx]
            gk = u[going_idx] * self.H + cat.event_host[ge]
            eff = self.start_day[ge] + 1
            for day in np.unique(eff):
                sel = eff == day
                self.pending_hostgo[int(day)].append((gk[sel], cat.end[ge][sel]))

        # Some registrants invite friends.
        inviter = rng.random(pos_idx.size) < pop.invite_propensity[pu]
        if inviter.any():
            iu, ie, iat = pu[inviter], pe[inviter], pat[inviter]
            k = 1 + rng.poisson(EXTRA_INVITES, iu.size)
            rep = np.repeat(np.arange(iu.size), k)
            delay = (rng.exponential(8.0, rep.size) * 3600).astype(np.int64)
            self._invite(ie[rep], iu[rep], iat[rep] + delay)

    def _compact(self, d: int) -> None:
        """Forget per-event state of events that have started: they take no more decisions."""
        live = self.start_day >= d
        n = self.N

        def by_event(keys: np.ndarray) -> np.ndarray:
            return live[keys // n]

        for ks in (self.expo, self.invited, self.invited_all, self.early, self.positive):
            ks.keep(by_event)

    # ----------------------------------------------------------------- wrap-up --------------
    def finish(self) -> Activity:
        pop, cat, rng = self.pop, self.cat, self.rng
        reg_u = self.regs.get("u", np.int64)
        reg_e = self.regs.get("e", np.int64)
        reg_at = self.regs.get("at", np.int64)
        reg_status = self.regs.get("status", np.int8)

        # Ratings: some attendees of events that are over rate them.
        attended = np.flatnonzero((reg_status == GOING) & (cat.end[reg_e] < self.now_s))
        rate = rng.random(attended.size) < pop.rating_propensity[reg_u[attended]]
        r_idx = attended[rate]
        ru, re_ = reg_u[r_idx], reg_e[r_idx]
        interest = interest_score(pop.latents.theta[ru, cat.category[re_]], -3.0)
        match = np.einsum("ij,ij->i", pop.latents.taste[ru], cat.latents.style[re_])
        mean = 3.7 + 0.5 * cat.host_quality[cat.event_host[re_]] + 0.3 * interest + 0.6 * match
        stars = np.clip(np.round(mean + rng.normal(0.0, 0.8, r_idx.size)), 1, 5).astype(np.int64)
        r_at = cat.end[re_] + (rng.exponential(1.5, r_idx.size) * DAY_S).astype(np.int64)
        ok = r_at < self.now_s

        # Follows: once per (user, host), the earliest.
        fu = self.fols.get("u", np.int64)
        fh = self.fols.get("h", np.int64)
        fat = self.fols.get("at", np.int64)
        order = np.lexsort((fat, fh, fu))
        fu, fh, fat = fu[order], fh[order], fat[order]
        first = np.ones(fu.size, dtype=bool)
        first[1:] = (fu[1:] != fu[:-1]) | (fh[1:] != fh[:-1])

        return Activity(
            reg_user=reg_u, reg_event=reg_e, reg_at=reg_at, reg_status=reg_status,
            inv_user=self.invs.get("u", np.int64), inv_event=self.invs.get("e", np.int64),
            inv_by=self.invs.get("by", np.int64), inv_at=self.invs.get("at", np.int64),
            view_user=self.views.get("u", np.int64), view_event=self.views.get("e", np.int64),
            view_at=self.views.get("at", np.int64), view_count=self.views.get("count", np.int64),
            follow_user=fu[first], follow_host=fh[first], follow_at=fat[first],
            rating_user=ru[ok], rating_event=re_[ok], rating_stars=stars[ok],
            rating_at=r_at[ok], decisions=self.decisions)
