"""The API as users run it: ``eventgraph serve`` in its own process, over real HTTP, against the
suite's real Neo4j, with a small synthetic graph and a model trained on it.

``start_served_api`` loads a 1 200-user synthetic graph (history up to today 00:00 UTC, events
announced for the weeks after), trains a small model on it, starts the server on a free port and
waits for ``/ready``. Used by tests/test_api*.py through the ``served_api`` fixture (conftest).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
from neo4j import Driver

from graph.settings import Settings

API_KEY = "test-api-key"
REPO = Path(__file__).resolve().parents[1]
N_USERS = 1200


@dataclass
class ServedApi:
    url: str
    process: subprocess.Popen[bytes]
    dataset: Path
    model_dir: Path
    log: Path
    now: datetime

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30.0, **kwargs)  # type: ignore[arg-type]

    def writer(self) -> httpx.Client:
        return self.client(headers={"X-API-Key": API_KEY})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_graph(driver: Driver, dataset: Path) -> None:
    from etl.load import load_dataset

    report = load_dataset(dataset, driver, progress=False, allow_bulk=False)
    assert report.rows_rejected == 0 and report.rows_loaded > 0, report.to_dict()


def has_graph(driver: Driver) -> bool:
    records, _, _ = driver.execute_query("MATCH (u:User {id: 'u000001'}) RETURN count(u) AS n")
    return bool(records[0]["n"])


def start_served_api(settings: Settings, driver: Driver, workdir: Path) -> ServedApi:
    from etl.synthetic import generate
    from gnn.history import Catalog
    from gnn.model_ranker import GNNRanker
    from gnn.train import TrainConfig
    from graph.export import export_graph

    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    dataset = workdir / "dataset"
    generate(N_USERS, 11, dataset, now=now, progress=False)
    load_graph(driver, dataset)

    tables = export_graph(driver)
    ranker = GNNRanker(TrainConfig(epochs=4, patience=2, seed=0))
    ranker.fit(tables, Catalog.from_tables(tables), now.timestamp() * 1000.0)
    model_dir = workdir / "model"
    ranker.save(model_dir)

    port = _free_port()
    log = workdir / "api.log"
    env = {
        **os.environ,
        "EVENTGRAPH_NEO4J_URI": settings.bolt_uri,
        "EVENTGRAPH_NEO4J_PASSWORD": settings.neo4j_password.get_secret_value(),
        "EVENTGRAPH_MODEL_DIR": str(model_dir),
        "EVENTGRAPH_API_KEY": API_KEY,
        # The server runs the code under test, wherever the package is installed from.
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    exe = shutil.which("eventgraph", path=str(Path(sys.executable).parent)) or "eventgraph"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [exe, "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    api = ServedApi(f"http://127.0.0.1:{port}", process, dataset, model_dir, log, now)
    deadline = time.monotonic() + 180
    with api.client() as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the API exited: {log.read_text()[-3000:]}")
            try:
                if client.get("/ready").status_code == 200:
                    return api
            except httpx.TransportError:
                pass
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError(f"the API was not ready in 180 s: {log.read_text()[-3000:]}")


def stop_served_api(api: ServedApi) -> None:
    api.process.terminate()
    try:
        api.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        api.process.kill()
