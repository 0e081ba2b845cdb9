"""The recommendation service: candidates -> features -> scores -> ranking -> explanations.

One request is one Cypher round trip (``graph.candidates.candidates_for`` with the user's
profile), one feature assembly and one batched model call (``gnn.inference.ServingModel``): the
same candidate and feature code as the offline evaluation's funnel view.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from neo4j import Driver

from api.graph_calls import GraphCalls
from api.schemas import Item, Reason, Recommendations
from gnn.features import FEATURE_NAMES
from gnn.inference import ServingModel
from graph.candidates import Candidate, CandidateSet, candidates_for


class UnknownUser(LookupError):
    def __init__(self, user_id: str) -> None:
        super().__init__(
            f"user {user_id!r} does not exist; pass lat and lon to get popular events near a "
            "location instead"
        )
        self.user_id = user_id


@dataclass
class Timed:
    response: Recommendations
    timings_ms: dict[str, float]
    n_candidates: int


def _names(ids: tuple[str, ...], names: tuple[str | None, ...]) -> list[str]:
    return [n or i for i, n in zip(ids, names, strict=False)]


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def reasons_for(c: Candidate, newcomer: bool) -> list[Reason]:
    """Concrete reasons, strongest first, from the facts the candidate query returned."""
    out: list[Reason] = []
    if c.friends_going:
        names = _names(c.friend_ids, c.friend_names)
        others = c.friends_going - len(names)
        who = ", ".join(names) + (
            f" and {others} other friend{'s' * (others > 1)}" if others > 0 else ""
        )
        verb = "is" if c.friends_going == 1 else "are"
        out.append(
            Reason(
                kind="friends_going",
                text=f"{who} {verb} going",
                details={"count": c.friends_going, "friend_ids": list(c.friend_ids)},
            )
        )
    if c.invited_by:
        names = _names(c.invited_by, c.invited_by_names)
        out.append(
            Reason(
                kind="invited",
                text=f"{', '.join(names)} invited you",
                details={"by_user_ids": list(c.invited_by)},
            )
        )
    host = c.host_name or c.host_id
    if c.host_attended:
        out.append(
            Reason(
                kind="host_attended",
                text=f"by {host}, whose events you went to {_times(c.host_attended)}",
                details={"host_id": c.host_id, "times": c.host_attended},
            )
        )
    elif c.follows_host:
        out.append(
            Reason(
                kind="follows_host",
                text=f"by {host}, which you follow",
                details={"host_id": c.host_id},
            )
        )
    if c.distance_km is not None:
        kind = "nearby" if "nearby" in c.sources else "distance"
        out.append(
            Reason(
                kind=kind,
                text=f"{c.distance_km:.1f} km away",
                details={"distance_km": round(c.distance_km, 3)},
            )
        )
    if "category" in c.sources and c.category:
        out.append(
            Reason(
                kind="category",
                text=f"{c.category}, one of your favourite categories",
                details={"category": c.category},
            )
        )
    if c.popularity and ("popular" in c.sources or newcomer):
        n = f"{c.popularity} registration{'s' * (c.popularity != 1)}"
        kind = "newcomer_popular" if newcomer else "popular"
        text = f"popular nearby: {n}" if newcomer else f"popular: {n}"
        out.append(Reason(kind=kind, text=text, details={"registrations": c.popularity}))
    return out


class RecommendationService:
    def __init__(
        self,
        driver: Driver,
        model: ServingModel,
        candidates: int = 500,
        database: str | None = None,
        graph: GraphCalls | None = None,
    ) -> None:
        self.driver = driver
        self.model = model
        self.candidates = candidates
        self.database = database
        self.graph = graph or GraphCalls(concurrency=4, timeout_s=2.0)

    def candidate_set(
        self,
        user_id: str,
        now: datetime,
        lat: float | None,
        lon: float | None,
        radius_km: float,
        horizon_days: float,
    ) -> CandidateSet:
        return candidates_for(
            self.driver,
            user_id,
            now,
            lat=lat,
            lon=lon,
            radius_km=radius_km,
            horizon_days=horizon_days,
            limit=self.candidates,
            profile=True,
            database=self.database,
        )

    def recommend(
        self,
        user_id: str,
        *,
        k: int = 10,
        lat: float | None = None,
        lon: float | None = None,
        radius_km: float = 25.0,
        horizon_days: float = 30.0,
        explain: bool = False,
        now: datetime | None = None,
    ) -> Timed:
        now = now or datetime.now(UTC)
        now_ms = now.timestamp() * 1000.0
        t0 = time.perf_counter()
        cset = self.graph.run(self.candidate_set, user_id, now, lat, lon, radius_km, horizon_days)
        t_graph = (time.perf_counter() - t0) * 1000.0
        if not cset.known_user and (lat is None or lon is None):
            raise UnknownUser(user_id)
        newcomer = not cset.known_user
        home = (lat, lon) if newcomer and lat is not None and lon is not None else None
        scored = self.model.score(self.driver, cset, now_ms, home=home, database=self.database)
        t1 = time.perf_counter()
        order = np.lexsort((np.arange(len(scored.scores)), -scored.scores))[:k]
        items = []
        for i in order:
            c = cset.items[i]
            items.append(
                Item(
                    event_id=c.event_id,
                    title=c.title,
                    start_time=c.start_time,
                    lat=c.lat,
                    lon=c.lon,
                    distance_km=c.distance_km,
                    score=float(scored.scores[i]),
                    reasons=reasons_for(c, newcomer),
                    sources=sorted(c.sources) if explain else None,
                    features=dict(zip(FEATURE_NAMES, scored.features[i].tolist(), strict=True))
                    if explain
                    else None,
                )
            )
        t_rank = (time.perf_counter() - t1) * 1000.0
        timings = {"graph": t_graph, **scored.timings_ms, "rank": t_rank}
        response = Recommendations(
            user_id=user_id,
            model_version=self.model.version,
            newcomer=newcomer,
            as_of=now,
            radius_km=cset.radius_km or radius_km,
            items=items,
        )
        return Timed(response, timings, len(cset))
