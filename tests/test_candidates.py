"""Stage-1 candidates against a real Neo4j: each source, the reasons' facts, time, limits, plan.

The graph is made by hand around a point in Chicago, so that every expectation can be read off
the fixture: which event each source must find, and which it must not.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from neo4j import Driver

from graph.candidates import (
    MAX_RADIUS_KM,
    Candidate,
    CandidateSet,
    candidate_parameters,
    candidates_for,
    candidates_for_many,
    clamp_radius_km,
    stage1_recall,
    warm_up,
)
from graph.queries import query
from graph.schema import ensure_schema

pytestmark = pytest.mark.neo4j

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LAT, LON = 41.88, -87.63
KM_PER_DEG_LAT = 6371.0088 * math.pi / 180


def north(km: float) -> tuple[float, float]:
    """A point ``km`` north of the centre."""
    return LAT + km / KM_PER_DEG_LAT, LON


def t(days: float = 0, hours: float = 0) -> datetime:
    return NOW + timedelta(days=days, hours=hours)


# id: (km north, start, host, category, status)
EVENTS = {
    "e_near": (2, t(2), "h_other", "sports", "scheduled"),  # nearby
    "e_far": (100, t(3), "h_other", "sports", "scheduled"),  # outside radius and region
    "e_vfar": (250, t(3), "h_other", "sports", "scheduled"),  # outside even the 200 km cap
    "e_started": (1, t(-1), "h_other", "sports", "scheduled"),  # already started
    "e_late": (1, t(40), "h_other", "sports", "scheduled"),  # after the 30-day horizon
    "e_cancelled": (1, t(5), "h_other", "sports", "cancelled"),  # friends going, but cancelled
    "e_friends": (80, t(10), "h_other", "sports", "scheduled"),  # bob + carol going
    "e_friend_maybe": (85, t(11), "h_other", "sports", "scheduled"),  # dave: maybe only
    "e_invited": (90, t(7), "h_other", "sports", "scheduled"),  # invited by frank
    "e_invited_late": (95, t(7), "h_other", "sports", "scheduled"),  # invitation after now
    "e_host_att": (120, t(12), "h_att", "sports", "scheduled"),  # host alice attended twice
    "e_host_fol": (130, t(14), "h_fol", "sports", "scheduled"),  # host alice follows
    "e_host_late": (140, t(15), "h_late", "sports", "scheduled"),  # followed after now
    "e_registered": (1.5, t(4), "h_reg", "film", "scheduled"),  # alice answered: excluded
    "e_registered_later": (1.6, t(4), "h_other", "sports", "scheduled"),  # answered after now
    "e_cat": (30, t(6), "h_other", "music", "scheduled"),  # favourite category, in region
    "e_pop": (40, t(8), "h_other", "tech", "scheduled"),  # popular in region
    "p1": (3, t(-30), "h_att", "music", "scheduled"),  # past events alice went to
    "p2": (3, t(-20), "h_att", "music", "scheduled"),
}
USERS = {
    "alice": (0, "Alice"),
    "bob": (1, "Bob"),
    "carol": (2, "Carol"),
    "dave": (3, "Dave"),
    "erin": (4, "Erin"),
    "frank": (5, "Frank"),
    "x1": (6, "X1"),
    "x2": (7, "X2"),
    "hermit": (1000, "Hermit"),  # far from every event
}
FRIENDS = [("alice", "bob"), ("carol", "alice"), ("alice", "dave")]  # carol's edge points in
# (user, event, at, status)
REGISTRATIONS = [
    ("bob", "e_friends", t(-2), "going"),
    ("carol", "e_friends", t(-1), "going"),
    ("dave", "e_friends", t(hours=1), "going"),  # after now: must not count
    ("erin", "e_friends", t(-1), "going"),  # not a friend
    ("dave", "e_friend_maybe", t(-1), "maybe"),
    ("bob", "e_cancelled", t(-1), "going"),
    ("alice", "e_registered", t(-1), "going"),
    ("alice", "e_registered_later", t(hours=2), "going"),
    ("alice", "p1", t(-40), "going"),
    ("alice", "p2", t(-25), "going"),
    ("erin", "e_cat", t(-3), "going"),
    ("erin", "e_pop", t(-3), "going"),
    ("x1", "e_pop", t(-2), "going"),
    ("x2", "e_pop", t(-1), "maybe"),
    ("frank", "e_pop", t(hours=3), "going"),  # after now: popularity 3, not 4
]
INVITATIONS = [
    ("alice", "e_invited", t(-1), "frank"),
    ("alice", "e_invited_late", t(1), "frank"),
]
FOLLOWS = [("alice", "h_fol", t(-10)), ("alice", "h_late", t(1))]


def build_graph(driver: Driver) -> None:
    """Wipe the test database and write the hand-made graph (parameters only)."""
    with driver.session() as session:
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    ensure_schema(driver)
    users = [
        {"id": uid, "name": name, "lat": north(km)[0], "lon": north(km)[1]}
        for uid, (km, name) in USERS.items()
    ]
    driver.execute_query(
        "UNWIND $rows AS r CREATE (:User {id: r.id, name: r.name, "
        "location: point({latitude: r.lat, longitude: r.lon})})",
        rows=users,
    )
    driver.execute_query(
        "UNWIND $hosts AS h CREATE (:Host {id: h, name: h, kind: 'organisation'})",
        hosts=["h_other", "h_att", "h_fol", "h_late", "h_reg"],
    )
    events = [
        {"id": eid, "km": km, "start": start, "host": host, "cat": cat, "status": status}
        for eid, (km, start, host, cat, status) in EVENTS.items()
    ]
    driver.execute_query(
        """
        UNWIND $rows AS r
        MATCH (h:Host {id: r.host})
        MERGE (c:Category {name: r.cat})
        CREATE (h)-[:HOSTS]->(e:Event {
          id: r.id, title: 'Title ' + r.id, category: r.cat, status: r.status,
          start_time: r.start, end_time: r.start + duration('PT2H'), price: 10.0, capacity: 50,
          location: point({latitude: $lat + r.km / $km_per_deg, longitude: $lon})
        })-[:IN_CATEGORY]->(c)
        """,
        rows=events,
        lat=LAT,
        lon=LON,
        km_per_deg=KM_PER_DEG_LAT,
    )
    driver.execute_query(
        "UNWIND $rows AS r MATCH (a:User {id: r[0]}), (b:User {id: r[1]}) "
        "CREATE (a)-[:FRIENDS_WITH {since: $since}]->(b)",
        rows=[list(p) for p in FRIENDS],
        since=t(-400),
    )
    driver.execute_query(
        "UNWIND $rows AS r MATCH (u:User {id: r.u}), (e:Event {id: r.e}) "
        "CREATE (u)-[:REGISTERED {at: r.at, status: r.status}]->(e)",
        rows=[{"u": u, "e": e, "at": at, "status": s} for u, e, at, s in REGISTRATIONS],
    )
    driver.execute_query(
        "UNWIND $rows AS r MATCH (u:User {id: r.u}), (e:Event {id: r.e}) "
        "CREATE (u)-[:INVITED_TO {at: r.at, by: r.by}]->(e)",
        rows=[{"u": u, "e": e, "at": at, "by": by} for u, e, at, by in INVITATIONS],
    )
    driver.execute_query(
        "UNWIND $rows AS r MATCH (u:User {id: r.u}), (h:Host {id: r.h}) "
        "CREATE (u)-[:FOLLOWS {at: r.at}]->(h)",
        rows=[{"u": u, "h": h, "at": at} for u, h, at in FOLLOWS],
    )


@pytest.fixture(scope="module")
def graph(driver: Driver) -> Iterator[Driver]:
    build_graph(driver)
    yield driver


@pytest.fixture(scope="module")
def alice(graph: Driver) -> CandidateSet:
    return candidates_for(graph, "alice", NOW)


def by_id(cset: CandidateSet) -> dict[str, Candidate]:
    return {c.event_id: c for c in cset}


def with_source(cset: CandidateSet, source: str) -> set[str]:
    return {c.event_id for c in cset if source in c.sources}


# --- each source finds exactly what it should ------------------------------------------------
def test_known_user_and_every_source(alice: CandidateSet) -> None:
    assert alice.known_user and alice.user_id == "alice"
    assert with_source(alice, "nearby") == {"e_near", "e_registered_later"}
    assert with_source(alice, "friends") == {"e_friends"}
    assert with_source(alice, "invited") == {"e_invited"}
    assert with_source(alice, "host") == {"e_host_att", "e_host_fol"}
    assert with_source(alice, "category") == {"e_cat"}
    # Popular: events of the region with registrations made up to now.
    assert with_source(alice, "popular") == {"e_cat", "e_pop"}
    assert set(alice.event_ids) == {
        "e_near", "e_registered_later", "e_friends", "e_invited", "e_host_att", "e_host_fol",
        "e_cat", "e_pop",
    }  # fmt: skip
    assert len(alice.event_ids) == len(set(alice.event_ids))


def test_exclusions(alice: CandidateSet) -> None:
    ids = set(alice.event_ids)
    assert "e_registered" not in ids  # already answered (at <= now)
    assert "e_started" not in ids and "p1" not in ids  # started
    assert "e_cancelled" not in ids  # cancelled, though a friend is going
    assert "e_late" not in ids  # after the horizon
    assert "e_far" not in ids and "e_vfar" not in ids  # out of radius, no other source


def test_time_respected(alice: CandidateSet) -> None:
    ids = set(alice.event_ids)
    assert "e_invited_late" not in ids  # invitation after now
    assert "e_host_late" not in ids  # follow after now
    assert "e_friend_maybe" not in ids  # a friend's "maybe" is not "going"
    # A registration after now does not exist yet: the event is still a candidate.
    assert "e_registered_later" in ids
    # ... nor does it make alice an attendee of its host (h_other hosts many events).
    assert by_id(alice)["e_registered_later"].host_attended == 0
    pop = by_id(alice)["e_pop"]
    assert pop.popularity == 3  # frank's registration after now does not count


def test_reason_facts(alice: CandidateSet) -> None:
    c = by_id(alice)
    friends = c["e_friends"]
    assert friends.friends_going == 2  # bob and carol; dave registered after now, erin no friend
    assert set(friends.friend_ids) == {"bob", "carol"}
    assert set(friends.friend_names) == {"Bob", "Carol"}
    assert friends.distance_km == pytest.approx(80, abs=0.1)
    assert c["e_near"].distance_km == pytest.approx(2, abs=0.01)
    assert c["e_near"].friends_going == 0 and c["e_near"].friend_ids == ()
    assert c["e_invited"].invited_by == ("frank",)
    assert c["e_invited"].invited_by_names == ("Frank",)
    assert c["e_host_att"].host_attended == 2 and not c["e_host_att"].follows_host
    assert c["e_host_fol"].follows_host and c["e_host_fol"].host_attended == 0
    near = c["e_near"]
    assert near.title == "Title e_near" and near.category == "sports"
    assert near.start_time == t(2)
    assert near.lat == pytest.approx(north(2)[0]) and near.lon == pytest.approx(LON)


def test_live_popularity_counts_every_registration(graph: Driver) -> None:
    # Past the last registration in the graph, popularity is the node degree: all 4.
    later = candidates_for(graph, "alice", t(hours=4))
    assert by_id(later)["e_pop"].popularity == 4
    # alice's own registration at now + 2 h now exists: that event is answered.
    assert "e_registered_later" not in later.event_ids


# --- limits, radius, horizon ------------------------------------------------------------------
def test_limit_and_allocation(graph: Driver) -> None:
    small = candidates_for(graph, "alice", NOW, limit=3)
    assert len(small) == 3
    assert len(set(small.event_ids)) == 3
    # One slot per source: no source takes two of the first slots.
    one_each = candidates_for(graph, "alice", NOW, limit=5, per_source=1)
    assert len(one_each) == 5
    for source in ("nearby", "host"):
        assert len(with_source(one_each, source)) <= 1


def test_no_source_floods_the_slots(graph: Driver) -> None:
    # Twenty more events right next to alice: nearby could fill every slot alone.
    rows = [{"id": f"e_crowd{i}", "lat": north(0.5 + i * 0.05)[0]} for i in range(20)]
    graph.execute_query(
        "MATCH (h:Host {id: 'h_other'}) UNWIND $rows AS r "
        "CREATE (h)-[:HOSTS]->(:Event {id: r.id, title: r.id, category: 'sports', "
        "status: 'scheduled', start_time: $start, "
        "location: point({latitude: r.lat, longitude: $lon})})",
        rows=rows,
        start=t(9),
        lon=LON,
    )
    try:
        cset = candidates_for(graph, "alice", NOW, limit=10, per_source=4)
        assert len(cset) == 10
        assert len(with_source(cset, "nearby")) == 4
        assert {"e_friends", "e_invited", "e_host_att", "e_host_fol", "e_cat"} <= set(
            cset.event_ids
        )
    finally:
        graph.execute_query(
            "MATCH (e:Event) WHERE e.id IN $ids DETACH DELETE e", ids=[r["id"] for r in rows]
        )


def test_radius_is_capped(graph: Driver) -> None:
    assert clamp_radius_km(1e6) == MAX_RADIUS_KM
    assert clamp_radius_km(10) == 10
    for bad in (0, -5, float("nan")):
        with pytest.raises(ValueError):
            clamp_radius_km(bad)
    huge = candidates_for(graph, "alice", NOW, radius_km=40_000)
    assert huge.radius_km == MAX_RADIUS_KM
    nearby = with_source(huge, "nearby")
    assert {"e_far", "e_friends", "e_host_att", "e_host_fol"} <= nearby  # within 200 km
    assert "e_vfar" not in huge.event_ids  # 250 km: beyond the cap
    assert all(c.distance_km is not None and c.distance_km <= MAX_RADIUS_KM for c in huge)


def test_horizon(graph: Driver) -> None:
    longer = candidates_for(graph, "alice", NOW, horizon_days=60)
    assert "e_late" in with_source(longer, "nearby")
    shorter = candidates_for(graph, "alice", NOW, horizon_days=2.5)
    assert set(shorter.event_ids) == {"e_near"}
    # A horizon past any calendar is clamped (MAX_HORIZON_DAYS), not an overflow.
    assert "e_late" in candidates_for(graph, "alice", NOW, horizon_days=1e9).event_ids
    with pytest.raises(ValueError):
        candidates_for(graph, "alice", NOW, horizon_days=float("nan"))


# --- newcomers, location override, batches ---------------------------------------------------
def test_newcomer_by_location(graph: Driver) -> None:
    for uid in (None, "nobody"):
        cset = candidates_for(graph, uid, NOW, lat=LAT, lon=LON)
        assert not cset.known_user and cset.user_id == uid
        assert set().union(*(c.sources for c in cset)) <= {"nearby", "popular"}
        # alice's answer is hers: the newcomer still sees e_registered.
        assert with_source(cset, "nearby") == {"e_near", "e_registered", "e_registered_later"}
        # alice's registration (at <= now) makes e_registered popular for others.
        assert with_source(cset, "popular") == {"e_cat", "e_pop", "e_registered"}
        assert all(c.friends_going == 0 and not c.invited_by for c in cset)


def test_unknown_user_without_location_is_empty(graph: Driver) -> None:
    cset = candidates_for(graph, "nobody", NOW)
    assert not cset.known_user and len(cset) == 0
    warm_up(graph)  # the API's start-up call: plans the statement, answers nothing useful


def test_popular_anywhere_when_the_region_is_empty(graph: Driver) -> None:
    hermit = candidates_for(graph, "hermit", NOW)
    assert hermit.known_user
    assert all(c.sources == {"popular"} for c in hermit)
    # Registrations (any status) at or before now, anywhere; cancelled and started excluded.
    assert set(hermit.event_ids) == {
        "e_friends",
        "e_friend_maybe",
        "e_pop",
        "e_cat",
        "e_registered",
    }
    assert by_id(hermit)["e_friends"].popularity == 3  # bob, carol, erin; dave's is later
    assert hermit.event_ids[:2] in (["e_friends", "e_pop"], ["e_pop", "e_friends"])


def test_location_override_for_known_user(graph: Driver) -> None:
    lat, lon = north(100)
    away = candidates_for(graph, "alice", NOW, lat=lat, lon=lon)
    assert away.known_user
    assert "e_far" in with_source(away, "nearby")
    assert by_id(away)["e_far"].distance_km == pytest.approx(0, abs=0.01)
    assert with_source(away, "friends") == {"e_friends"}  # the social sources stay


def test_bad_arguments(graph: Driver) -> None:
    with pytest.raises(ValueError):
        candidates_for(graph, "alice", NOW, lat=LAT)  # lat without lon
    with pytest.raises(ValueError):
        candidates_for(graph, "alice", NOW, lat=95.0, lon=0.0)
    with pytest.raises(ValueError):
        candidates_for(graph, "alice", NOW, limit=0)
    with pytest.raises(ValueError):
        candidates_for(graph, "alice", NOW, horizon_days=0)
    # A naive now is read as UTC, not silently compared as a LocalDateTime.
    naive = candidates_for(graph, "alice", NOW.replace(tzinfo=None))
    assert naive.event_ids == candidates_for(graph, "alice", NOW).event_ids


def test_candidates_for_many(graph: Driver, alice: CandidateSet) -> None:
    many = candidates_for_many(
        graph, ["alice", "bob", "ghost", "alice"], NOW, batch_size=2, workers=2
    )
    assert set(many) == {"alice", "bob", "ghost"}
    assert many["alice"].event_ids == alice.event_ids
    assert many["bob"].known_user and not many["ghost"].known_user and len(many["ghost"]) == 0
    assert many["bob"].event_ids == candidates_for(graph, "bob", NOW).event_ids


# --- the plan ----------------------------------------------------------------------------------
def _operators(plan: dict) -> Iterator[tuple[str, str]]:
    yield plan["operatorType"].split("@")[0], str(plan.get("args", {}).get("Details", ""))
    for child in plan.get("children", []):
        yield from _operators(child)


def test_profile_uses_the_indexes(graph: Driver) -> None:
    # Past events far away make a realistic catalogue: scanning Events would now be costly.
    rows = [
        {"id": f"old{i}", "days": -1 - i % 300, "lat": north(500 + i % 100)[0]} for i in range(800)
    ]
    graph.execute_query(
        "UNWIND $rows AS r CREATE (:Event {id: r.id, title: r.id, status: 'scheduled', "
        "start_time: $now + duration({days: r.days}), "
        "location: point({latitude: r.lat, longitude: $lon})})",
        rows=rows,
        now=NOW,
        lon=LON,
    )
    try:
        graph.execute_query("CALL db.resampleOutdatedIndexes()")
        # As the API sends it: with the user's profile (same plan for the sources).
        params = candidate_parameters(
            [{"user_id": "alice", "lat": None, "lon": None}], NOW, profile=True
        )
        with graph.session() as session:
            summary = session.run("PROFILE " + query("candidates"), params).consume()
        ops = list(_operators(summary.profile))
        names = [name for name, _ in ops]
        assert "AllNodesScan" not in names
        assert not [d for n, d in ops if n == "NodeByLabelScan" and ":Event" in d], ops
        event_seeks = [
            (n, d) for n, d in ops
            if "IndexSeek" in n and ("Event(start_time)" in d or "Event(location)" in d)
        ]  # fmt: skip
        assert event_seeks, names
        assert {"NodeUniqueIndexSeek"} <= set(names)  # the user by id
    finally:
        graph.execute_query("MATCH (e:Event) WHERE e.id STARTS WITH 'old' DETACH DELETE e")


# --- stage-1 recall ----------------------------------------------------------------------------
def _cand(event_id: str, *sources: str) -> Candidate:
    return Candidate(event_id, frozenset(sources), None, None, None, None, None, None)


def test_stage1_recall_hand_case() -> None:
    sets = {
        "u1": CandidateSet("u1", True, [_cand("a", "nearby"), _cand("b", "friends", "popular"),
                                        _cand("c", "popular")]),
        "u2": CandidateSet("u2", True, [_cand("d", "host")]),
    }  # fmt: skip
    positives = {"u1": {"a", "b", "x"}, "u2": {"y"}, "u3": {"z"}, "u4": set()}
    r = stage1_recall(sets, positives)
    assert r["n_users"] == 3 and r["n_positives"] == 5 and r["n_found"] == 2
    assert r["overall"] == pytest.approx(2 / 5)
    assert r["macro"] == pytest.approx((2 / 3 + 0 + 0) / 3)
    assert r["by_source"]["nearby"] == pytest.approx(1 / 5)
    assert r["by_source"]["friends"] == pytest.approx(1 / 5)
    assert r["by_source"]["popular"] == pytest.approx(1 / 5)
    assert r["by_source"]["host"] == 0
    assert r["only_by_source"]["nearby"] == pytest.approx(1 / 5)
    assert r["only_by_source"]["friends"] == 0  # b was found by popular too
    assert r["mean_candidates"] == pytest.approx(4 / 3)
    assert stage1_recall({}, {})["overall"] == 0.0
