"""Every Neo4j call of a request runs here, on a small pool, with a deadline.

Two things a request must never do: pile more queries onto Neo4j than its cores can run (a burst
of 64 requests made connections time out), and hang when the server stops answering without
closing its sockets (a frozen process, a network partition: the driver has no read timeout of
its own). So the calls run on ``concurrency`` worker threads and the request waits at most
``timeout_s`` for its answer, queueing included; past that it gets ``GraphTimeout`` (a 503). A
call abandoned that way finishes or fails on its own later; its worker is busy meanwhile, which
is the back-pressure we want.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class GraphTimeout(RuntimeError):
    """The graph database did not answer in time (overloaded, or not answering at all)."""


class GraphCalls:
    def __init__(self, concurrency: int, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="neo4j")

    def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        future = self._pool.submit(fn, *args, **kwargs)
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout as exc:
            future.cancel()  # still queued: never runs; running: left to finish on its own
            raise GraphTimeout(
                f"no answer from the graph database within {self.timeout_s:.1f} s"
            ) from exc

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
