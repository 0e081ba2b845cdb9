"""The FastAPI application: recommendations, writes, health, readiness and metrics.

``create_app(settings)`` builds the app; ``eventgraph serve`` runs it with uvicorn. At start-up a
background thread opens the driver, plans the candidate statement and loads the model with its
embeddings of the graph (``gnn.inference.ServingModel``); until that is done ``/ready`` and the
recommendation endpoint answer 503, and if Neo4j is not there yet the thread keeps trying. Neo4j
going away later gives 503s with a clear body within about a second (short driver timeouts, no
retries past ``api_neo4j_timeout_s``), and the driver reconnects by itself when it is back.
"""

from __future__ import annotations

import functools
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from neo4j import Driver
from neo4j.exceptions import (
    ClientError as Neo4jClientError,
)
from neo4j.exceptions import (
    ServiceUnavailable,
    SessionExpired,
)
from neo4j.exceptions import (
    TransientError as Neo4jTransientError,
)

from api import schemas
from api.graph_calls import GraphCalls, GraphTimeout
from api.metrics import Metrics
from api.service import RecommendationService, UnknownUser
from gnn.inference import ServingModel
from graph import writes
from graph.candidates import MAX_HORIZON_DAYS, warm_up
from graph.connection import open_driver
from graph.settings import Settings, get_settings

log = logging.getLogger("eventgraph.api")

#: Errors that mean "the database is not reachable right now" (-> 503).
UNAVAILABLE = (ServiceUnavailable, SessionExpired, Neo4jTransientError, OSError)


class NotReady(RuntimeError):
    pass


class AppState:
    """What the endpoints share: the driver, the model, readiness."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.driver: Driver | None = None
        self.service: RecommendationService | None = None
        self.error: str | None = "starting"
        self.graph = GraphCalls(settings.api_graph_concurrency, settings.api_graph_timeout_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._load, name="eventgraph-load", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        s = self.settings
        while not self._stop.is_set():
            try:
                if self.driver is None:
                    self.driver = open_driver(s, timeout_s=s.api_neo4j_timeout_s)
                warm_up(self.driver, s.neo4j_database)
                t0 = time.perf_counter()
                model = ServingModel.from_graph(s.model_dir, self.driver, s.neo4j_database)
                self.service = RecommendationService(
                    self.driver,
                    model,
                    candidates=s.api_candidates,
                    database=s.neo4j_database,
                    graph=self.graph,
                )
                self.error = None
                log.info(
                    "model %s loaded, %d users and %d events embedded in %.1f s",
                    model.version,
                    model.n_users,
                    model.n_events,
                    time.perf_counter() - t0,
                )
                return
            except UNAVAILABLE as exc:
                self.error = f"Neo4j at {s.bolt_uri} is unavailable: {exc}"
                self._stop.wait(2.0)
                continue
            except FileNotFoundError as exc:
                self.error = f"no model at {s.model_dir}: run `eventgraph train` ({exc})"
            except Exception as exc:  # keep serving /health and say why in /ready
                log.exception("loading the model failed")
                self.error = f"loading the model failed: {type(exc).__name__}: {exc}"
            # Not a passing outage: look again now and then (a model may be trained meanwhile).
            self._stop.wait(15.0)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.graph.close()
        if self.driver is not None:
            self.driver.close()

    def require_service(self) -> RecommendationService:
        if self.service is None:
            raise NotReady(self.error or "starting")
        return self.service

    def require_driver(self) -> Driver:
        if self.driver is None:
            raise NotReady(self.error or "starting")
        return self.driver


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    state = AppState(settings)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.start()
        yield
        state.close()

    app = FastAPI(
        title="eventgraph",
        summary="Events you'll love: graph candidates ranked by a GraphSAGE model.",
        version="1.0",
        lifespan=lifespan,
    )
    app.state.eventgraph = state

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[..., Any]) -> Response:
        t0 = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.observe_request(
            request.method, path, response.status_code, time.perf_counter() - t0
        )
        return response

    @app.exception_handler(NotReady)
    async def not_ready(request: Request, exc: NotReady) -> JSONResponse:
        metrics.error("not_ready")
        return JSONResponse(
            {"detail": f"not ready: {exc}"}, status_code=503, headers={"Retry-After": "2"}
        )

    for error_type in UNAVAILABLE:

        @app.exception_handler(error_type)
        async def unavailable(request: Request, exc: Exception) -> JSONResponse:
            metrics.error("neo4j_unavailable")
            return JSONResponse(
                {
                    "detail": f"the graph database is unavailable ({type(exc).__name__}): "
                    "try again shortly"
                },
                status_code=503,
                headers={"Retry-After": "1"},
            )

    @app.exception_handler(GraphTimeout)
    async def graph_timeout(request: Request, exc: GraphTimeout) -> JSONResponse:
        metrics.error("neo4j_timeout")
        return JSONResponse(
            {"detail": f"{exc}: try again shortly"}, status_code=503, headers={"Retry-After": "1"}
        )

    @app.exception_handler(Neo4jClientError)
    async def rejected(request: Request, exc: Neo4jClientError) -> JSONResponse:
        # Values the schemas let through but the database refuses (its own limits): the
        # client's request, not the server, is at fault.
        return JSONResponse(
            {"detail": f"the graph database refused the request: {exc.message}"}, status_code=422
        )

    @app.exception_handler(writes.MissingReference)
    async def missing_reference(request: Request, exc: writes.MissingReference) -> JSONResponse:
        return JSONResponse(
            {
                "detail": [
                    {
                        "loc": ["body", exc.field],
                        "msg": str(exc),
                        "type": "missing_reference",
                        "input": exc.value,
                    }
                ]
            },
            status_code=422,
        )

    def require_key(x_api_key: Annotated[str | None, Header()] = None) -> None:
        expected = settings.api_key.get_secret_value() if settings.api_key else None
        if not expected:
            raise _http(503, "writes are disabled: set EVENTGRAPH_API_KEY on the server")
        if x_api_key is None or not secrets.compare_digest(x_api_key.encode(), expected.encode()):
            raise _http(401, "missing or wrong X-API-Key header", {"WWW-Authenticate": "X-API-Key"})

    # --- operations ----------------------------------------------------------------------------
    @app.get("/health", tags=["operations"])
    def health() -> dict[str, str]:
        """The process is up (says nothing about Neo4j or the model: see /ready)."""
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"], responses={503: {"model": schemas.Problem}})
    def ready() -> JSONResponse:
        """Neo4j reachable and the model loaded."""
        service = state.service
        if service is None:
            return JSONResponse({"status": "starting", "detail": state.error}, status_code=503)
        try:
            state.graph.run(state.require_driver().verify_connectivity)
        except (*UNAVAILABLE, GraphTimeout) as exc:
            return JSONResponse(
                {"status": "unavailable", "detail": f"Neo4j: {exc}"}, status_code=503
            )
        return JSONResponse(
            {
                "status": "ready",
                "model_version": service.model.version,
                "users_embedded": service.model.n_users,
                "events_embedded": service.model.n_events,
            }
        )

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def prometheus() -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    # --- recommendations -----------------------------------------------------------------------
    @app.get(
        "/users/{user_id}/recommendations",
        tags=["recommendations"],
        response_model=schemas.Recommendations,
        response_model_exclude_none=True,
        responses={404: {"model": schemas.Problem}, 503: {"model": schemas.Problem}},
    )
    def recommendations(
        user_id: str,
        response: Response,
        k: Annotated[int, Query(ge=1, le=100)] = 10,
        lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
        lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
        radius_km: Annotated[float, Query(gt=0, le=20_000, description="Capped at 200 km.")] = 25,
        horizon_days: Annotated[float, Query(gt=0, le=MAX_HORIZON_DAYS)] = 30,
        explain: bool = False,
    ) -> schemas.Recommendations:
        """The top ``k`` upcoming events for a user, with the model's score and the reasons.

        An unknown ``user_id`` with ``lat`` and ``lon`` is a newcomer: popular events near that
        location, flagged ``newcomer: true``. ``explain=true`` adds each event's candidate
        sources and pair features.
        """
        try:
            schemas._text(user_id)
        except ValueError as exc:
            raise _validation(["path", "user_id"], f"user_id {exc}") from exc
        if (lat is None) != (lon is None):
            missing = "lon" if lon is None else "lat"
            raise _validation(
                ["query", missing],
                f"{missing} is required when {'lat' if missing == 'lon' else 'lon'} is given",
            )
        service = state.require_service()
        try:
            result = service.recommend(
                user_id,
                k=k,
                lat=lat,
                lon=lon,
                radius_km=radius_km,
                horizon_days=horizon_days,
                explain=explain,
            )
        except UnknownUser as exc:
            raise _http(404, str(exc)) from exc

        metrics.observe_recommendation(result.timings_ms, result.n_candidates)
        response.headers["Server-Timing"] = ", ".join(
            f"{name};dur={ms:.2f}" for name, ms in result.timings_ms.items()
        )
        return result.response

    # --- writes --------------------------------------------------------------------------------
    def _iso(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    def _row(body: schemas._Body, **defaults: Any) -> dict[str, Any]:
        row = body.model_dump()
        for key, value in row.items():
            if isinstance(value, datetime):
                row[key] = _iso(value)
        for key, value in defaults.items():
            if row.get(key) is None:
                row[key] = value
        return row

    def _now() -> str:
        return datetime.now(UTC).isoformat()

    def _written(
        kind: str, fn: Callable[..., writes.WriteResult], row: dict[str, Any], response: Response
    ) -> tuple[schemas.WriteOut, writes.WriteResult]:
        result = state.graph.run(fn, state.require_driver(), row, settings.neo4j_database)
        response.status_code = 201 if result.created else 200
        metrics.write(kind)
        return schemas.WriteOut(kind=kind, created=result.created, record=row), result

    def _write(
        kind: str, fn: Callable[..., writes.WriteResult], row: dict[str, Any], response: Response
    ) -> schemas.WriteOut:
        return _written(kind, fn, row, response)[0]

    auth = [Depends(require_key)]
    write_responses: dict[int | str, dict[str, Any]] = {
        200: {"model": schemas.WriteOut, "description": "The record existed: updated in place."},
        401: {"model": schemas.Problem},
        503: {"model": schemas.Problem},
    }
    write_route = functools.partial(
        app.post, tags=["writes"], dependencies=auth, status_code=201, responses=write_responses
    )

    @write_route("/users")
    def post_user(body: schemas.UserIn, response: Response) -> schemas.WriteOut:
        """Create or replace a user (every field is written; the id is the key)."""
        out = _write("user", writes.write_user, _row(body, joined_at=_now()), response)
        if (service := state.service) is not None:
            service.model.forget_users([body.id])
        return out

    @write_route("/hosts")
    def post_host(body: schemas.HostIn, response: Response) -> schemas.WriteOut:
        return _write("host", writes.write_host, _row(body), response)

    @write_route("/events")
    def post_event(body: schemas.EventIn, response: Response) -> schemas.WriteOut:
        """Create or replace an event; it is embedded at once and can be recommended."""
        row = _row(body, created_at=_now())
        row["tags"] = "|".join(body.tags) if body.tags else None
        out = _write("event", writes.write_event, row, response)
        if (service := state.service) is not None:
            service.model.forget_events([body.id])
            state.graph.run(
                service.model.ensure_embedded,
                state.require_driver(),
                [],
                [body.id],
                settings.neo4j_database,
            )
        return out

    @write_route("/friendships")
    def post_friendship(body: schemas.FriendshipIn, response: Response) -> schemas.WriteOut:
        return _write("friendship", writes.write_friendship, _row(body, since=_now()), response)

    @write_route("/registrations")
    def post_registration(body: schemas.RegistrationIn, response: Response) -> schemas.WriteOut:
        """Register a user for an event (the same registration twice is one registration)."""
        out, result = _written(
            "registration", writes.write_registration, _row(body, at=_now()), response
        )
        if (service := state.service) is not None:
            service.model.record_registration(
                body.event_id, result.host_id, result.previous_status, body.status
            )
        return out

    @write_route("/invitations")
    def post_invitation(body: schemas.InvitationIn, response: Response) -> schemas.WriteOut:
        return _write("invitation", writes.write_invitation, _row(body, at=_now()), response)

    @write_route("/views")
    def post_view(body: schemas.ViewIn, response: Response) -> schemas.WriteOut:
        """Record views of an event (counts add up)."""
        return _write("view", writes.write_view, _row(body, at=_now()), response)

    return app


def _http(status: int, detail: str, headers: dict[str, str] | None = None) -> Exception:
    from fastapi import HTTPException

    return HTTPException(status_code=status, detail=detail, headers=headers)


def _validation(loc: list[str], msg: str) -> Exception:
    from fastapi.exceptions import RequestValidationError

    return RequestValidationError([{"loc": loc, "msg": msg, "type": "value_error"}])
