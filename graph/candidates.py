"""Stage 1 of the funnel: candidate events for a user, with their sources and reasons.

``candidates_for(driver, user_id, now)`` answers "which upcoming events could this user go to?"
with at most ``limit`` (500) distinct events, each tagged with the sources that found it:

| source     | rule (every fact as of ``now``)                                                    |
|------------|------------------------------------------------------------------------------------|
| nearby     | starts in (now, now + horizon] within ``radius_km`` of the origin, nearest first   |
| friends    | friends (read undirected) hold a going registration made at or before now          |
| invited    | the user got an invitation at or before now                                        |
| host       | hosted by a host the user attended (going, at <= now) or follows                   |
| category   | in one of the user's favourite categories (their going registrations), in the      |
|            | region around the origin, most popular first                                       |
| popular    | most registrations (any status, at <= now) in the region; anywhere when the region |
|            | has nothing (or a known user has no location); fills the slots the others leave   |

The origin is the request's lat/lon when given, else the user's home. The region (popular,
category) is the circle of ``max(radius_km, 50 km)`` around it, capped at ``MAX_RADIUS_KM`` like
the radius itself (a huge radius is clamped: a point-index seek over a very large distance has
failed on some Neo4j 5.x releases, and 200 km is already a long drive). Every source keeps events
that start in (now, now + horizon] (the request's time window applies to all of them; at most
``MAX_HORIZON_DAYS``), that are not cancelled and that the user has not answered yet (any
REGISTERED at or before now).
Registrations, invitations and follows after ``now`` do not exist for the query: the offline
evaluation replays past cutoffs, so ``now`` is a parameter, never the server's clock.

Allocation: each source other than popular may claim up to ``per_source`` slots (default 40 % of
``limit``); the sources interleave by rank / quota, so none floods the list, and popular fills
what is left. Facts (friends going, invited by, host attended, follows, distance) are filled for
every candidate whatever source brought it.

Popularity: registrations of any status made up to now. In live serving no registration is
dated after now, and the statement reads it as the node's degree (no relationship touched); when
``now`` is a past cutoff (some registration is later) it counts them with the time filter. One
index seek on ``registered_at`` tells the two apart. A registration is one relationship with its
latest status and ``at``: a replay sees statuses as they are now, dated by ``at``.

Everything is one Cypher statement (``graph/cypher/candidates.cypher``), one round trip per
request (an auto-commit read). Its plan: the user by the ``user_id`` unique index; their history,
friends, invitations and hosts by expansion from the user; one seek of the ``event_start_time``
range index (or of the ``event_location`` point index, as the planner prefers) for the region,
shared by nearby, category and popular; friends' registrations aggregated once per event. On a
100 000-user synthetic graph that is a few thousand db hits and a few ms of server time
(``benchmarks/candidates_latency.py``). ``candidates_for_many`` sends a batch of users through
the same statement (UNWIND), for the offline evaluation's funnel view, and ``stage1_recall``
scores candidate sets against held-out positives.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from neo4j import READ_ACCESS, Driver

from graph.queries import query

#: Source names, in the order reports list them.
SOURCES: tuple[str, ...] = ("nearby", "friends", "invited", "host", "category", "popular")
#: Largest radius (and region) searched, in km; larger requests are clamped to it.
MAX_RADIUS_KM = 200.0
#: Longest time window, in days; longer horizons are clamped to it.
MAX_HORIZON_DAYS = 366.0
#: The popular and category sources look at least this far around the origin.
MIN_REGION_KM = 50.0
#: How many favourite categories the category source uses.
FAVOURITE_CATEGORIES = 3
#: Upcoming events read per attended or followed host (soonest first).
HOST_EVENTS = 50
#: Largest batch of users sent in one statement by ``candidates_for_many``.
DEFAULT_BATCH = 64


class Candidate(NamedTuple):
    """One candidate event and the facts behind its reasons (all as of ``now``).

    A named tuple: 500 of them are built per request, and a tuple is the cheapest immutable
    record Python has.
    """

    event_id: str
    sources: frozenset[str]
    start_time: datetime | None
    title: str | None
    category: str | None
    lat: float | None
    lon: float | None
    #: Distance from the origin (request lat/lon, else the user's home); None without one.
    distance_km: float | None
    #: Friends with a going registration made at or before now, and up to three of them.
    friends_going: int = 0
    friend_ids: tuple[str, ...] = ()
    friend_names: tuple[str | None, ...] = ()
    #: Ids (and names) of the users whose invitations reached the user at or before now.
    invited_by: tuple[str, ...] = ()
    invited_by_names: tuple[str | None, ...] = ()
    #: The user's going registrations (at or before now) with this event's host.
    host_attended: int = 0
    follows_host: bool = False
    #: Registrations (any status) made up to now, where the query counted them (events that
    #: came through nearby, category or popular); None for the others.
    popularity: int | None = None
    host_id: str | None = None
    host_name: str | None = None
    price: float | None = None
    city: str | None = None


class PastEvent(NamedTuple):
    """One of the user's going registrations (at or before now) and its event's attributes."""

    event_id: str
    at_ms: float
    start_ms: float | None
    category: str | None
    lat: float | None
    lon: float | None
    price: float | None
    host_id: str | None


@dataclass(slots=True)
class UserProfile:
    """What the pair features need to know about the user as of ``now`` (``profile=True``)."""

    lat: float | None
    lon: float | None
    went: list[PastEvent]
    #: (event id, viewed at in epoch ms, count) of the user's views up to now.
    views: list[tuple[str, float | None, int | None]]
    followed_host_ids: list[str]

    @classmethod
    def from_record(cls, value: Mapping[str, Any] | None) -> UserProfile | None:
        if value is None:
            return None
        return cls(
            lat=value["lat"],
            lon=value["lon"],
            went=[PastEvent(*row) for row in value["went"]],
            views=[(v[0], v[1], v[2]) for v in value["views"]],
            followed_host_ids=list(value["follows"]),
        )


@dataclass(slots=True)
class CandidateSet:
    """The candidates of one user (or of a newcomer's location) at one moment."""

    user_id: str | None
    known_user: bool
    items: list[Candidate] = field(default_factory=list)
    now: datetime | None = None
    #: The radius actually searched (after the cap), in km.
    radius_km: float | None = None
    #: The user's profile, when asked for (``profile=True``) and the user is known.
    profile: UserProfile | None = None

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Candidate]:
        return iter(self.items)

    @property
    def event_ids(self) -> list[str]:
        return [c.event_id for c in self.items]

    def by_source(self) -> dict[str, list[str]]:
        """Event ids per source (an event found by several sources is in each list)."""
        out: dict[str, list[str]] = {s: [] for s in SOURCES}
        for c in self.items:
            for s in c.sources:
                out.setdefault(s, []).append(c.event_id)
        return out


def clamp_radius_km(radius_km: float) -> float:
    """The radius searched: positive, finite, at most ``MAX_RADIUS_KM``."""
    radius = float(radius_km)
    if math.isnan(radius) or radius <= 0:
        raise ValueError(f"radius_km must be a positive number of km, got {radius_km!r}")
    return min(radius, MAX_RADIUS_KM)


def _as_utc(now: datetime) -> datetime:
    if not isinstance(now, datetime):
        raise TypeError(f"now must be a datetime, got {type(now).__name__}")
    if now.tzinfo is None:  # a naive datetime would travel as a LocalDateTime and match nothing
        now = now.replace(tzinfo=UTC)
    # A plain datetime (not a pandas Timestamp or a subclass) for the driver.
    return datetime.fromtimestamp(now.timestamp(), tz=UTC)


def _check_location(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise ValueError("give both lat and lon, or neither")
    if lat is not None and lon is not None:
        if not (-90.0 <= float(lat) <= 90.0):
            raise ValueError(f"lat must be in [-90, 90], got {lat!r}")
        if not (-180.0 <= float(lon) <= 180.0):
            raise ValueError(f"lon must be in [-180, 180], got {lon!r}")


def candidate_parameters(
    requests: list[dict[str, Any]],
    now: datetime,
    *,
    radius_km: float = 25,
    horizon_days: float = 30,
    limit: int = 500,
    per_source: int | None = None,
    profile: bool = False,
) -> dict[str, Any]:
    """The parameters of ``candidates.cypher`` (also used by tests to PROFILE the same query)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit!r}")
    if not horizon_days > 0:  # also rejects NaN
        raise ValueError(f"horizon_days must be positive, got {horizon_days!r}")
    horizon = min(float(horizon_days), MAX_HORIZON_DAYS)
    radius = clamp_radius_km(radius_km)
    region = min(max(radius, MIN_REGION_KM), MAX_RADIUS_KM)
    quota = per_source if per_source is not None else max(1, (limit * 2) // 5)
    if quota < 1:
        raise ValueError(f"per_source must be at least 1, got {per_source!r}")
    now_utc = _as_utc(now)
    return {
        "requests": requests,
        "now": now_utc,
        "until": now_utc + timedelta(days=horizon),
        "radius_m": radius * 1000.0,
        "region_m": region * 1000.0,
        "quota": int(min(quota, limit)),
        "limit": int(limit),
        "fav_categories": FAVOURITE_CATEGORIES,
        "host_events": HOST_EVENTS,
        "profile": bool(profile),
    }


#: Source sets by the bit mask the query returns (nearby 1, friends 2, ... popular 32).
_SOURCE_SETS: tuple[frozenset[str], ...] = tuple(
    frozenset(s for bit, s in enumerate(SOURCES) if mask >> bit & 1) for mask in range(64)
)


def _candidate(item: list[Any]) -> Candidate:
    (event_id, mask, start_ms, title, category, lat, lon, distance_m, friends_going, friends,
     invited_by, invited_names, host_attended, follows_host, popularity, host, price,
     city) = item  # fmt: skip
    return Candidate(
        event_id,
        _SOURCE_SETS[mask],
        None if start_ms is None else datetime.fromtimestamp(start_ms / 1000.0, tz=UTC),
        title,
        category,
        lat,
        lon,
        None if distance_m is None else distance_m / 1000.0,
        friends_going,
        tuple(f[0] for f in friends),
        tuple(f[1] for f in friends),
        tuple(invited_by),
        tuple(invited_names),
        host_attended,
        follows_host,
        popularity,
        None if host is None else host[0],
        None if host is None else host[1],
        None if price is None else float(price),
        city,
    )


def _run(
    driver: Driver, params: dict[str, Any], database: str | None
) -> list[tuple[str | None, bool, list[Candidate], UserProfile | None]]:
    # An auto-commit read: RUN and PULL go out together, one round trip (a managed transaction
    # would add BEGIN/COMMIT). The statement only reads, so there is nothing to retry halfway.
    with driver.session(database=database, default_access_mode=READ_ACCESS) as session:
        records = list(session.run(query("candidates"), params))
    return [
        (
            r["user_id"],
            r["known_user"],
            [_candidate(i) for i in r["items"]],
            UserProfile.from_record(r["profile"]),
        )
        for r in records
    ]


def candidates_for(
    driver: Driver,
    user_id: str | None,
    now: datetime,
    *,
    lat: float | None = None,
    lon: float | None = None,
    radius_km: float = 25,
    horizon_days: float = 30,
    limit: int = 500,
    per_source: int | None = None,
    profile: bool = False,
    database: str | None = None,
) -> CandidateSet:
    """At most ``limit`` distinct upcoming events for ``user_id`` as of ``now`` (one query).

    ``lat``/``lon`` replace the user's home as the origin of nearby, category and popular; for
    an unknown (or ``None``) user id they make a newcomer request: nearby and popular only, with
    ``known_user=False``. An unknown user without lat/lon gets an empty set (``known_user=False``),
    for the caller to turn into a 404. A naive ``now`` is taken as UTC. ``profile=True`` also
    returns the user's ``UserProfile`` (what feature assembly needs), in the same round trip.
    """
    _check_location(lat, lon)
    params = candidate_parameters(
        [{"user_id": user_id, "lat": lat, "lon": lon}],
        now,
        radius_km=radius_km,
        horizon_days=horizon_days,
        limit=limit,
        per_source=per_source,
        profile=profile,
    )
    ((_, known, items, user_profile),) = _run(driver, params, database)
    return CandidateSet(
        user_id=user_id,
        known_user=known,
        items=items,
        now=params["now"],
        radius_km=params["radius_m"] / 1000.0,
        profile=user_profile,
    )


def warm_up(driver: Driver, database: str | None = None) -> None:
    """Plan the statement once (about a second on a busy server) before the first request.

    A newcomer at (0, 0) and the current time: cheap to answer, same parameter types (``profile``
    is a parameter too, so this one plan serves requests with and without it).
    """
    candidates_for(driver, None, datetime.now(UTC), lat=0.0, lon=0.0, database=database)


def candidates_for_many(
    driver: Driver,
    user_ids: Iterable[str],
    now: datetime,
    *,
    radius_km: float = 25,
    horizon_days: float = 30,
    limit: int = 500,
    per_source: int | None = None,
    batch_size: int = DEFAULT_BATCH,
    workers: int = 1,
    database: str | None = None,
    progress: bool = False,
) -> dict[str, CandidateSet]:
    """``candidates_for`` for many users at one ``now``: ``batch_size`` users per statement.

    Each user is answered from their home location (no lat/lon override). Unknown ids come back
    with ``known_user=False`` and no items. ``workers`` statements run at once (Neo4j runs one
    statement on one core: up to the server's cores is worth it for a large evaluation).
    """
    ids = list(dict.fromkeys(user_ids))
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size!r}")
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers!r}")
    chunks = [ids[i : i + batch_size] for i in range(0, len(ids), batch_size)]
    settings = {
        "radius_km": radius_km,
        "horizon_days": horizon_days,
        "limit": limit,
        "per_source": per_source,
    }

    def run_chunk(chunk: list[str]) -> list[CandidateSet]:
        params = candidate_parameters(
            [{"user_id": uid, "lat": None, "lon": None} for uid in chunk], now, **settings
        )
        radius = params["radius_m"] / 1000.0
        return [
            CandidateSet(uid, known, items, now=params["now"], radius_km=radius)
            for uid, known, items, _ in _run(driver, params, database)
        ]

    out: dict[str, CandidateSet] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results: Iterable[list[CandidateSet]] = pool.map(run_chunk, chunks)
        if progress:
            from rich.progress import track

            results = track(results, description="candidates", total=len(chunks))
        for sets in results:
            for cset in sets:
                out[cset.user_id] = cset  # type: ignore[index]
    return out


def stage1_recall(
    candidate_sets: Mapping[str, CandidateSet | Iterable[Candidate]],
    positives: Mapping[str, Iterable[str]],
) -> dict[str, Any]:
    """How much of the held-out positives stage 1 keeps, overall and per source.

    ``positives`` maps a user id to the events they registered for after ``now`` (users with no
    positives are skipped; a user with positives but no candidate set counts as all misses).
    Returns ``overall`` (micro: found positives / all positives), ``macro`` (mean of per-user
    recall), ``by_source`` (share of all positives that each source found), ``only_by_source``
    (share found by that source alone: what removing it would lose), ``n_users``,
    ``n_positives``, ``n_found`` and ``mean_candidates``.
    """
    n_users = n_pos = n_found = 0
    n_candidates = 0
    per_user: list[float] = []
    by_source = dict.fromkeys(SOURCES, 0)
    only = dict.fromkeys(SOURCES, 0)
    for uid, events in positives.items():
        wanted = set(events)
        if not wanted:
            continue
        n_users += 1
        n_pos += len(wanted)
        cset = candidate_sets.get(uid)
        items = list(cset) if cset is not None else []
        n_candidates += len(items)
        found = 0
        for c in items:
            if c.event_id not in wanted:
                continue
            found += 1
            for s in c.sources:
                by_source[s] = by_source.get(s, 0) + 1
            if len(c.sources) == 1:
                (s,) = c.sources
                only[s] = only.get(s, 0) + 1
        n_found += found
        per_user.append(found / len(wanted))
    return {
        "overall": n_found / n_pos if n_pos else 0.0,
        "macro": sum(per_user) / len(per_user) if per_user else 0.0,
        "by_source": {s: (k / n_pos if n_pos else 0.0) for s, k in by_source.items()},
        "only_by_source": {s: (k / n_pos if n_pos else 0.0) for s, k in only.items()},
        "n_users": n_users,
        "n_positives": n_pos,
        "n_found": n_found,
        "mean_candidates": n_candidates / n_users if n_users else 0.0,
    }
