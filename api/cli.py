"""`eventgraph serve`: run the REST API with uvicorn (``register(app)`` adds the command).

In the foreground by default; ``--detach`` starts it in the background (pid and log under the
settings' ``data_dir``) and returns once ``/ready`` answers, ``--stop`` stops that one. The demo
uses the detached form so that ``make demo`` ends with the API running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()


def _pid_file(data_dir: Path) -> Path:
    return data_dir / "api.pid"


def _running_pid(data_dir: Path) -> int | None:
    path = _pid_file(data_dir)
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def _stop(data_dir: Path) -> bool:
    pid = _running_pid(data_dir)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        time.sleep(0.1)
        if _running_pid(data_dir) is None:
            break
    _pid_file(data_dir).unlink(missing_ok=True)
    return True


def _detach(host: str, port: int, model: Path | None, data_dir: Path, timeout: float) -> None:
    import httpx

    if _stop(data_dir):
        console.print("stopped the API that was running (to load the graph and model afresh)")
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "api.log"
    exe = [sys.executable, "-m", "api", "--host", host, "--port", str(port)]
    if model is not None:
        exe += ["--model", str(model)]
    with log.open("ab") as out:
        process = subprocess.Popen(
            exe,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _pid_file(data_dir).write_text(f"{process.pid}\n")
    url = f"http://{host}:{port}"
    deadline = time.monotonic() + timeout
    with console.status(f"API starting at {url} (embedding the graph)") as status:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                console.print(f"[red]the API exited[/red]; see {log}")
                raise typer.Exit(1)
            try:
                r = httpx.get(f"{url}/ready", timeout=2)
                if r.status_code == 200:
                    break
                status.update(f"API starting at {url}: {r.json().get('detail')}")
            except httpx.TransportError:
                pass
            time.sleep(1)
        else:
            console.print(f"[red]the API was not ready after {timeout:.0f} s[/red]; see {log}")
            raise typer.Exit(1)
    console.print(f"API ready at {url} (docs {url}/docs), pid {process.pid}, log {log}")


def serve_cmd(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings, 8000).")] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Model folder (default: settings' model_dir).")
    ] = None,
    detach: Annotated[
        bool, typer.Option("--detach", help="Run in the background; return when ready.")
    ] = False,
    stop: Annotated[
        bool, typer.Option("--stop", help="Stop the API started with --detach.")
    ] = False,
    ready_timeout: Annotated[float, typer.Option(help="--detach: seconds to wait.")] = 900,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve recommendations and writes over HTTP (OpenAPI docs at /docs)."""
    from graph.settings import get_settings

    settings = get_settings()
    host = host or settings.api_host
    port = port or settings.api_port
    if stop:
        console.print("API stopped" if _stop(settings.data_dir) else "no API was running")
        return
    if detach:
        _detach(host, port, model, settings.data_dir, ready_timeout)
        return
    run(host, port, model, log_level)


def run(host: str, port: int, model: Path | None = None, log_level: str = "info") -> None:
    import uvicorn

    from api.app import create_app
    from graph.settings import get_settings

    settings = get_settings()
    if model is not None:
        settings = settings.model_copy(update={"model_dir": model})
    # One worker: the model and its embeddings live in the process, and on a small machine the
    # cores are better left to Neo4j. Requests run concurrently in uvicorn's thread pool.
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level, access_log=False)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
