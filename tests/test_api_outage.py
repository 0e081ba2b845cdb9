"""Neo4j going away under a running API: 503 with a clear body, fast; back to 200 by itself."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest
from api_server import ServedApi

from graph.server import LocalNeo4j

pytestmark = pytest.mark.neo4j


def test_neo4j_down_gives_503_fast_and_the_api_recovers(
    served_api: ServedApi, test_server: LocalNeo4j
) -> None:
    path = "/users/u000001/recommendations"
    with served_api.client() as client:
        assert client.get(path).status_code == 200
        test_server.stop()
        try:
            for _ in range(3):  # the pooled connections die with the server: every try is fast
                t0 = time.perf_counter()
                r = client.get(path)
                elapsed = time.perf_counter() - t0
                assert r.status_code == 503, r.text
                assert "unavailable" in r.json()["detail"]
                assert elapsed < 1.5, f"503 took {elapsed:.2f} s"
            ready = client.get("/ready")
            assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
            assert client.get("/health").status_code == 200
        finally:
            test_server.start(timeout=180)
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:  # the same API process, not restarted
            try:
                status = client.get(path).status_code
            except httpx.TransportError:
                status = None
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200
        assert client.get("/ready").status_code == 200
    assert served_api.process.poll() is None


def test_a_frozen_neo4j_gives_503_within_the_deadline(
    served_api: ServedApi, test_server: LocalNeo4j
) -> None:
    """A server that stops answering without closing its sockets: no request hangs."""
    path = "/users/u000002/recommendations"
    pid = test_server.pid()
    assert pid is not None
    with served_api.client() as client:
        assert client.get(path).status_code == 200
        os.kill(pid, signal.SIGSTOP)
        try:
            t0 = time.perf_counter()
            r = client.get(path)
            elapsed = time.perf_counter() - t0
            assert r.status_code == 503, r.text
            assert "no answer from the graph database" in r.json()["detail"]
            assert elapsed < 3.5, f"503 took {elapsed:.2f} s"  # the deadline is 2 s
        finally:
            os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            status = client.get(path).status_code
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200
