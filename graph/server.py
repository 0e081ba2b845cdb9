"""The local Neo4j Community server that the project installs and runs itself.

Neo4j is resolved from Maven Central with Maven (``org.neo4j:neo4j`` plus the Browser) into a
cache folder shared by every checkout, then started as a plain ``java`` process with our own
``neo4j.conf``. We start the JVM directly instead of through the tarball's ``bin/neo4j`` script
because Maven Central ships the jars, not the distribution tarball; the command line mirrors what
``Neo4jCommand console --dry-run`` prints, plus the ``--add-opens`` flags the launcher adds.

A server home holds ``conf/``, ``data/``, ``logs/``, ``run/`` and ``import/``. The demo uses
``<data_dir>/neo4j``; the test suite uses a temporary home on other ports, so a test run never
touches the demo database.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template

from graph.settings import Settings

_MAIN_CLASS = "org.neo4j.server.CommunityEntryPoint"
_ADMIN_CLASS = "org.neo4j.server.startup.Neo4jAdminCommand"
_JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
)

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>eventgraph.local</groupId>
  <artifactId>neo4j-server</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.neo4j</groupId><artifactId>neo4j</artifactId><version>{version}</version>
    </dependency>
    <dependency>
      <groupId>org.neo4j.client</groupId><artifactId>neo4j-browser</artifactId>
      <version>{browser}</version>
    </dependency>
  </dependencies>
</project>
"""


class Neo4jServerError(RuntimeError):
    """The local server could not be installed, started or stopped; the message says why."""


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    bolt_uri: str
    http_url: str
    home: Path
    version: str
    installed: bool

    def describe(self) -> str:
        state = f"running (pid {self.pid})" if self.running else "stopped"
        return (
            f"Neo4j {self.version} {state}\n  bolt:    {self.bolt_uri}\n"
            f"  browser: {self.http_url}/browser/\n  home:    {self.home}"
        )


class LocalNeo4j:
    """One local Neo4j server: its jars (shared cache), its home folder and its process."""

    def __init__(
        self,
        home: Path,
        cache_dir: Path,
        *,
        version: str,
        browser_version: str,
        bolt_port: int,
        http_port: int,
        user: str,
        password: str,
        heap: str = "2g",
        pagecache: str = "2g",
    ) -> None:
        self.home = home.resolve()
        self.install_dir = (cache_dir / f"neo4j-{version}").expanduser().resolve()
        self.version = version
        self.browser_version = browser_version
        self.bolt_port = bolt_port
        self.http_port = http_port
        self.user = user
        self.password = password
        self.heap = heap
        self.pagecache = pagecache

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalNeo4j:
        return cls(
            settings.neo4j_home,
            settings.cache_dir,
            version=settings.neo4j_version,
            browser_version=settings.neo4j_browser_version,
            bolt_port=settings.neo4j_bolt_port,
            http_port=settings.neo4j_http_port,
            user=settings.neo4j_user,
            password=settings.neo4j_password.get_secret_value(),
            heap=settings.neo4j_heap,
            pagecache=settings.neo4j_pagecache,
        )

    # --- paths -----------------------------------------------------------------------------
    @property
    def lib_dir(self) -> Path:
        return self.install_dir / "lib"

    @property
    def conf_dir(self) -> Path:
        return self.home / "conf"

    @property
    def import_dir(self) -> Path:
        return self.home / "import"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "console.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "run" / "eventgraph-neo4j.pid"

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    # --- install ---------------------------------------------------------------------------
    def is_installed(self) -> bool:
        return (self.install_dir / ".complete").exists()

    def install(self) -> Path:
        """Resolve the server jars from Maven Central into the cache (idempotent)."""
        if self.is_installed():
            return self.lib_dir
        java, mvn = shutil.which("java"), shutil.which("mvn")
        if java is None or mvn is None:
            raise Neo4jServerError(
                "Installing Neo4j needs Java 17+ and Maven on PATH "
                f"(java: {java or 'missing'}, mvn: {mvn or 'missing'})."
            )
        self.install_dir.mkdir(parents=True, exist_ok=True)
        pom = self.install_dir / "pom.xml"
        pom.write_text(_POM.format(version=self.version, browser=self.browser_version))
        staging = self.install_dir / "lib.partial"
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            mvn, "-B", "-q", "-f", str(pom), "dependency:copy-dependencies",
            f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
        ]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise Neo4jServerError(
                f"Maven could not resolve Neo4j {self.version}:\n{proc.stdout[-3000:]}"
                f"{proc.stderr[-3000:]}"
            )
        shutil.rmtree(self.lib_dir, ignore_errors=True)
        staging.rename(self.lib_dir)
        (self.install_dir / ".complete").write_text(self.version)
        return self.lib_dir

    # --- configuration -------------------------------------------------------------------------
    def configure(self) -> None:
        """Write conf/neo4j.conf and create the home folders; set the password on first use."""
        for sub in ("conf", "data", "logs", "run", "import", "plugins"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        template = resources.files("graph").joinpath("conf/neo4j.conf.template").read_text()
        conf = Template(template).substitute(
            bolt_port=self.bolt_port,
            http_port=self.http_port,
            heap=self.heap,
            pagecache=self.pagecache,
        )
        (self.conf_dir / "neo4j.conf").write_text(conf)
        marker = self.home / "data" / ".password-set"
        if not marker.exists() and not (self.home / "data" / "dbms").exists():
            self.admin("dbms", "set-initial-password", self.password)
            marker.write_text("set before first start\n")

    def _classpath(self) -> str:
        return f"{self.conf_dir}/*:{self.lib_dir}/*"

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["NEO4J_HOME"] = str(self.home)
        env["NEO4J_CONF"] = str(self.conf_dir)
        return env

    def admin(self, *args: str, timeout: float = 3600) -> str:
        """Run ``neo4j-admin`` with this home's configuration; returns its output."""
        cmd = ["java", "-Xmx1g", *_JVM_FLAGS, "-cp", self._classpath(), _ADMIN_CLASS, *args]
        proc = subprocess.run(
            cmd, env=self._env(), cwd=self.home, capture_output=True, text=True, timeout=timeout
        )
        if proc.returncode != 0:
            raise Neo4jServerError(
                f"neo4j-admin {' '.join(args[:3])} failed ({proc.returncode}):\n"
                f"{proc.stdout[-4000:]}{proc.stderr[-4000:]}"
            )
        return proc.stdout + proc.stderr

    # --- process ---------------------------------------------------------------------------
    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            return None
        return pid if _MAIN_CLASS.encode() in cmdline else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def start(self, timeout: float = 120) -> ServerStatus:
        """Start in the background and return once Bolt accepts connections (idempotent)."""
        if self.is_running():
            self._wait_for_bolt(timeout)
            return self.status()
        self.install()
        self.configure()
        for port in (self.bolt_port, self.http_port):
            if _port_open(port):
                raise Neo4jServerError(
                    f"Port {port} is already in use by another process; stop it or set "
                    "EVENTGRAPH_NEO4J_BOLT_PORT / EVENTGRAPH_NEO4J_HTTP_PORT."
                )
        cmd = [
            "java", f"-Xms{self.heap}", f"-Xmx{self.heap}", *_JVM_FLAGS,
            "-cp", self._classpath(), _MAIN_CLASS,
            f"--home-dir={self.home}", f"--config-dir={self.conf_dir}", "--console-mode",
        ]  # fmt: skip
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                cmd,
                env=self._env(),
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # survives the CLI that started it
            )
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise Neo4jServerError(
                    f"Neo4j exited with code {proc.returncode} while starting; see {self.log_file}"
                    f":\n{_tail(self.log_file)}"
                )
            if _port_open(self.bolt_port) and _port_open(self.http_port):
                self._wait_for_bolt(max(deadline - time.monotonic(), 5))
                return self.status()
            time.sleep(0.5)
        raise Neo4jServerError(f"Neo4j did not answer within {timeout:.0f} s; see {self.log_file}")

    def _wait_for_bolt(self, timeout: float) -> None:
        from neo4j import GraphDatabase
        from neo4j.exceptions import ServiceUnavailable

        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with GraphDatabase.driver(self.bolt_uri, auth=(self.user, self.password)) as drv:
                    drv.verify_connectivity()
                    drv.execute_query("RETURN 1")
                return
            except ServiceUnavailable as exc:  # still starting: the database is not online yet
                last = exc
                time.sleep(0.5)
        raise Neo4jServerError(f"Bolt at {self.bolt_uri} did not become ready: {last}")

    def stop(self, timeout: float = 60) -> bool:
        """Stop cleanly (SIGTERM lets Neo4j checkpoint); returns whether it was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _pid_alive(pid):
            time.sleep(0.2)
        if _pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _pid_alive(pid):
                time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> ServerStatus:
        return ServerStatus(
            running=self.is_running(),
            pid=self.pid(),
            bolt_uri=self.bolt_uri,
            http_url=self.http_url,
            home=self.home,
            version=self.version,
            installed=self.is_installed(),
        )


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited; its parent just has not reaped it


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""
