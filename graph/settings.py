"""One configuration object for the whole product.

Every value can be set by an environment variable with the ``EVENTGRAPH_`` prefix or in a ``.env``
file in the working directory (``EVENTGRAPH_NEO4J_PASSWORD=...``). It lives in ``graph`` because
``graph`` is the bottom layer: etl, gnn and api may all import it, while graph imports none of them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The Neo4j release the project installs and tests against (the 5.26 LTS line runs on Java 17).
NEO4J_VERSION = "5.26.30"
#: The newest Neo4j Browser published to Maven Central; it is served by the server at /browser.
NEO4J_BROWSER_VERSION = "5.24.0"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EVENTGRAPH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- Neo4j -------------------------------------------------------------------------------
    neo4j_uri: str | None = Field(
        default=None,
        description="Bolt URI of an existing server (Docker, Aura, a cluster). When set, the "
        "project uses it and installs nothing; when unset, the local managed server is used.",
    )
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr = Field(
        default=SecretStr("eventgraph-local"),
        description="Password of the local server, set before its first start. Change it for "
        "anything but a laptop demo (EVENTGRAPH_NEO4J_PASSWORD).",
    )
    neo4j_database: str = "neo4j"
    neo4j_version: str = NEO4J_VERSION
    neo4j_browser_version: str = NEO4J_BROWSER_VERSION
    neo4j_bolt_port: int = 7687
    neo4j_http_port: int = 7474
    neo4j_heap: str = Field(default="2g", description="JVM heap of the local server.")
    neo4j_pagecache: str = Field(default="2g", description="Page cache of the local server.")
    neo4j_connect_timeout_s: float = 5.0

    # --- folders -----------------------------------------------------------------------------
    data_dir: Path = Field(
        default=Path("var"),
        description="Where the local server keeps its home (conf, data, logs) and where the demo "
        "writes its datasets.",
    )
    cache_dir: Path = Field(
        default=Path.home() / ".cache" / "eventgraph",
        description="Downloaded Neo4j jars, shared by every checkout on this machine.",
    )
    model_dir: Path = Field(default=Path("var/model"), description="Trained model folder.")

    # --- API ---------------------------------------------------------------------------------
    api_key: SecretStr | None = Field(
        default=None, description="Key that write endpoints require in the X-API-Key header."
    )
    api_host: str = Field(default="127.0.0.1", description="Interface `eventgraph serve` binds.")
    api_port: int = Field(default=8000, description="Port `eventgraph serve` listens on.")
    api_neo4j_timeout_s: float = Field(
        default=1.0,
        description="How long a request waits for Neo4j (connecting, or a pooled connection) "
        "before it answers 503.",
    )
    api_candidates: int = Field(
        default=500, description="Candidates scored per recommendation request."
    )
    api_graph_concurrency: int = Field(
        default=4,
        description="Neo4j calls the API runs at once; more requests wait their turn "
        "(Neo4j runs a query on one core: more in flight only adds contention).",
    )
    api_graph_timeout_s: float = Field(
        default=2.0,
        description="How long a request waits for Neo4j's answer, its turn included, before "
        "a 503 (a server that stops answering never makes a request hang).",
    )

    @property
    def neo4j_home(self) -> Path:
        return self.data_dir / "neo4j"

    @property
    def local_bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.neo4j_bolt_port}"

    @property
    def bolt_uri(self) -> str:
        """The URI the driver connects to: the configured server, else the local one."""
        return self.neo4j_uri or self.local_bolt_uri

    @property
    def uses_external_server(self) -> bool:
        return self.neo4j_uri is not None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
