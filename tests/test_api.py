"""The REST API over real HTTP (``eventgraph serve`` in its own process) against the real Neo4j.

Recommendations with reasons, the same answer as the offline code path, newcomers, 404 / 422 /
401, writes taking effect at once (a friend's registration, a new event), metrics.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timedelta

import numpy as np
import pytest
from api_server import ServedApi
from neo4j import Driver

pytestmark = pytest.mark.neo4j
warnings.filterwarnings("ignore", message=".*torch.jit.script.*", category=FutureWarning)


def _user_with_friend_going(driver: Driver, now: datetime) -> tuple[str, str, str]:
    """(user, friend, event): the friend is going to an upcoming event the user has not answered."""
    records, _, _ = driver.execute_query(
        """
        MATCH (u:User)-[:FRIENDS_WITH]-(f:User)-[r:REGISTERED {status: 'going'}]->(e:Event)
        WHERE e.start_time > $now AND e.start_time <= $now + duration('P30D')
          AND point.distance(u.location, e.location) < 25000
          AND NOT EXISTS { (u)-[:REGISTERED]->(e) }
        RETURN u.id AS u, f.id AS f, e.id AS e ORDER BY u, e LIMIT 1
        """,
        now=now,
    )
    assert records, "the synthetic graph has friends going to upcoming events"
    return records[0]["u"], records[0]["f"], records[0]["e"]


def test_recommendations_are_ranked_with_reasons(served_api: ServedApi, driver: Driver) -> None:
    user, friend, event = _user_with_friend_going(driver, served_api.now)
    with served_api.client() as client:
        r = client.get(f"/users/{user}/recommendations", params={"k": 50})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user_id"] == user and body["newcomer"] is False
    assert body["model_version"] == (served_api.model_dir / "VERSION").read_text().strip()
    items = body["items"]
    assert 0 < len(items) <= 50
    scores = [it["score"] for it in items]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s < 1.0 for s in scores)
    assert all(it["reasons"] for it in items)
    assert all(
        it["distance_km"] is not None and it["distance_km"] <= 25.0 + 1e-6
        for it in items
        if "nearby" in {x["kind"] for x in it["reasons"]}
    )
    by_id = {it["event_id"]: it for it in items}
    assert any(x["kind"] == "friends_going" for it in items for x in it["reasons"])
    if event in by_id:  # the friend's event is a candidate; if it ranks in the 50, it says why
        reasons = {x["kind"]: x for x in by_id[event]["reasons"]}
        assert friend in reasons["friends_going"]["details"]["friend_ids"]
        assert "going" in reasons["friends_going"]["text"]
    timing = dict(part.split(";dur=") for part in r.headers["server-timing"].split(", "))
    assert {"graph", "features", "score"} <= set(timing)
    assert all(float(v) >= 0 for v in timing.values())


def test_the_api_gives_the_offline_candidates_features_and_scores(
    served_api: ServedApi, driver: Driver
) -> None:
    """One user through HTTP and through the offline code (candidates_for, a History of the whole
    graph, pair_features, GNNRanker.score): the same candidates, features and scores."""
    from gnn.features import FEATURE_NAMES, pair_features
    from gnn.history import Catalog, History
    from gnn.model_ranker import GNNRanker
    from graph.candidates import candidates_for
    from graph.export import export_graph

    user, _, _ = _user_with_friend_going(driver, served_api.now)
    with served_api.client() as client:
        r = client.get(f"/users/{user}/recommendations", params={"k": 100, "explain": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    as_of = datetime.fromisoformat(body["as_of"].replace("Z", "+00:00"))
    now_ms = as_of.timestamp() * 1000.0

    cset = candidates_for(driver, user, as_of, limit=500)
    tables = export_graph(driver)
    catalog = Catalog.from_tables(tables)
    history = History.at(tables, catalog, now_ms)
    u = catalog.user_rows([user])
    e = catalog.event_rows(cset.event_ids)
    features = pair_features(history, np.repeat(u, len(e)), e)
    ranker = GNNRanker.load(served_api.model_dir)
    logits = ranker.score(history, u, e)[0]
    probability = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    order = np.lexsort((np.arange(len(e)), -probability))[: len(body["items"])]

    assert [it["event_id"] for it in body["items"]] == [cset.event_ids[i] for i in order]
    for item, i in zip(body["items"], order, strict=True):
        assert sorted(item["sources"]) == sorted(cset.items[i].sources)
        online = np.array([item["features"][name] for name in FEATURE_NAMES])
        np.testing.assert_allclose(online, features[i], rtol=1e-5, atol=1e-5)
        assert item["score"] == pytest.approx(probability[i], abs=1e-5)


def test_newcomer_with_a_location_gets_popular_events_nearby(
    served_api: ServedApi, driver: Driver
) -> None:
    records, _, _ = driver.execute_query(
        "MATCH (e:Event) WHERE e.start_time > datetime() AND COUNT { (e)<-[:REGISTERED]-() } > 0 "
        "RETURN e.location.latitude AS lat, e.location.longitude AS lon LIMIT 1"
    )
    lat, lon = records[0]["lat"], records[0]["lon"]
    with served_api.client() as client:
        r = client.get("/users/someone-new/recommendations", params={"lat": lat, "lon": lon})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["newcomer"] is True and body["items"]
        kinds = {x["kind"] for it in body["items"] for x in it["reasons"]}
        assert "newcomer_popular" in kinds
        assert all(it["distance_km"] <= 50.0 + 1e-6 for it in body["items"])

        huge = client.get(
            "/users/someone-new/recommendations",
            params={"lat": lat, "lon": lon, "radius_km": 20_000},
        )
        assert huge.status_code == 200 and huge.json()["radius_km"] == 200.0  # capped
        assert all(it["distance_km"] <= 200.0 + 1e-6 for it in huge.json()["items"])

        missing = client.get("/users/someone-new/recommendations")
        assert missing.status_code == 404
        assert "someone-new" in missing.json()["detail"]


def _loc(response_json: dict) -> list[list[str]]:
    return [d["loc"] for d in response_json["detail"]]


def test_validation_errors_name_the_field(served_api: ServedApi) -> None:
    with served_api.client() as client, served_api.writer() as writer:
        r = client.get("/users/u000001/recommendations", params={"lat": 41.9})
        assert r.status_code == 422 and ["query", "lon"] in _loc(r.json())
        r = client.get("/users/u000001/recommendations", params={"k": 0})
        assert r.status_code == 422 and ["query", "k"] in _loc(r.json())
        r = client.get("/users/u000001/recommendations", params={"lat": 123, "lon": 0})
        assert r.status_code == 422 and ["query", "lat"] in _loc(r.json())

        r = writer.post("/registrations", json={"user_id": "u000001"})
        assert r.status_code == 422 and ["body", "event_id"] in _loc(r.json())
        r = writer.post(
            "/registrations",
            json={"user_id": "u000001", "event_id": "e000001", "status": "maybe-later"},
        )
        assert r.status_code == 422 and ["body", "status"] in _loc(r.json())
        r = writer.post("/registrations", json={"user_id": "nobody", "event_id": "e000001"})
        assert r.status_code == 422 and ["body", "user_id"] in _loc(r.json())
        assert "nobody" in r.json()["detail"][0]["msg"]
        r = writer.post("/users", json={"id": "x1", "lat": 91, "lon": 0})
        assert r.status_code == 422 and ["body", "lat"] in _loc(r.json())
        r = writer.post(
            "/events",
            json={
                "id": "x1",
                "host_id": "h00001",
                "lat": 0,
                "lon": 0,
                "start_time": "2030-01-01T10:00:00",
            },
        )
        assert r.status_code == 422 and ["body", "start_time"] in _loc(r.json())


def test_writes_need_the_api_key(served_api: ServedApi) -> None:
    body = {"id": "keyless", "lat": 0.0, "lon": 0.0}
    with served_api.client() as client:
        assert client.post("/users", json=body).status_code == 401
        assert client.post("/users", json=body, headers={"X-API-Key": "wrong"}).status_code == 401
    with served_api.writer() as writer:
        assert writer.post("/users", json=body).status_code in (200, 201)


def test_writes_take_effect_at_once(served_api: ServedApi, driver: Driver) -> None:
    """New people, a new event, a friendship, a registration: the next request sees them all."""
    lat, lon = -12.05, -77.04  # a city the synthetic graph does not have: nothing else nearby
    start = (datetime.now().astimezone() + timedelta(days=5)).replace(microsecond=0)
    records, _, _ = driver.execute_query("MATCH (h:Host) RETURN h.id AS id LIMIT 1")
    host = records[0]["id"]
    with served_api.writer() as w, served_api.client() as client:
        for uid, name in (("api-ana", "Ana"), ("api-bo", "Bo")):
            r = w.post("/users", json={"id": uid, "name": name, "lat": lat, "lon": lon})
            assert r.status_code in (200, 201), r.text
        assert w.post("/friendships", json={"user_id": "api-ana", "friend_id": "api-bo"}).is_success
        event = {
            "id": "api-event",
            "host_id": host,
            "title": "Ceviche night",
            "category": "food",
            "start_time": start.isoformat(),
            "price": 0,
            "lat": lat + 0.01,
            "lon": lon,
        }
        r = w.post("/events", json=event)
        assert r.status_code in (200, 201), r.text

        # The new event is a candidate and has a score: embedded at once, no retraining.
        r = client.get("/users/api-ana/recommendations", params={"explain": "true"})
        assert r.status_code == 200, r.text
        items = {it["event_id"]: it for it in r.json()["items"]}
        assert "api-event" in items and 0.0 < items["api-event"]["score"] < 1.0
        assert "friends_going" not in {x["kind"] for x in items["api-event"]["reasons"]}
        before = items["api-event"]["features"]["friends_going"]

        # Bo registers (twice: one registration); Ana's next request says Bo is going.
        reg = {"user_id": "api-bo", "event_id": "api-event"}
        first, second = w.post("/registrations", json=reg), w.post("/registrations", json=reg)
        assert (first.status_code, second.status_code) == (201, 200)
        assert first.json()["created"] is True and second.json()["created"] is False
        n, _, _ = driver.execute_query(
            "MATCH (:User {id: 'api-bo'})-[r:REGISTERED]->(:Event {id: 'api-event'}) "
            "RETURN count(r) AS n"
        )
        assert n[0]["n"] == 1

        r = client.get("/users/api-ana/recommendations", params={"explain": "true"})
        items = {it["event_id"]: it for it in r.json()["items"]}
        reasons = {x["kind"]: x for x in items["api-event"]["reasons"]}
        assert reasons["friends_going"]["details"]["friend_ids"] == ["api-bo"]
        assert reasons["friends_going"]["text"] == "Bo is going"
        assert items["api-event"]["features"]["friends_going"] > before
        assert items["api-event"]["features"]["event_popularity"] > 0  # the counter moved

        # Bo's own answer takes the event out of Bo's candidates.
        r = client.get("/users/api-bo/recommendations")
        assert "api-event" not in {it["event_id"] for it in r.json()["items"]}

        # Views add up; invitations need existing people.
        assert w.post("/views", json={**reg, "count": 2}).is_success
        assert w.post("/views", json=reg).is_success
        views, _, _ = driver.execute_query(
            "MATCH (:User {id: 'api-bo'})-[v:VIEWED]->(:Event {id: 'api-event'}) "
            "RETURN v.count AS c"
        )
        assert views[0]["c"] == 3
        r = w.post(
            "/invitations",
            json={"user_id": "api-ana", "event_id": "api-event", "by_user_id": "ghost"},
        )
        assert r.status_code == 422 and ["body", "by_user_id"] in _loc(r.json())


def test_health_ready_and_metrics(served_api: ServedApi) -> None:
    with served_api.client() as client:
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready").json()
        assert ready["status"] == "ready" and ready["users_embedded"] > 0
        client.get("/users/u000002/recommendations")
        text = client.get("/metrics").text
    assert 'eventgraph_http_request_duration_seconds_count{method="GET"' in text
    assert "eventgraph_recommendation_stage_seconds_bucket" in text
    assert "eventgraph_recommendation_candidates_count" in text
