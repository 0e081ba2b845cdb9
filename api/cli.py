"""`eventgraph serve`: run the REST API with uvicorn (``register(app)`` adds the command)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve_cmd(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: settings).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: settings, 8000).")] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Model folder (default: settings' model_dir).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve recommendations and writes over HTTP (OpenAPI docs at /docs)."""
    import uvicorn

    from api.app import create_app
    from graph.settings import get_settings

    settings = get_settings()
    if model is not None:
        settings = settings.model_copy(update={"model_dir": model})
    app = create_app(settings)
    # One worker: the model and its embeddings live in the process, and on a small machine the
    # cores are better left to Neo4j. Requests run concurrently in uvicorn's thread pool.
    uvicorn.run(
        app,
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level=log_level,
        access_log=False,
    )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
