"""A throwaway PostgreSQL server for tests.

``start_postgres()`` initialises a fresh cluster in a temporary directory,
starts it on a free port on 127.0.0.1 and creates the database ``kap12_test``.
``stop()`` kills it and removes the directory.  Durability is switched off
for speed: the data is gone when the server stops anyway.

PostgreSQL refuses to run as root.  When the tests run as root, the cluster
belongs to the ``postgres`` user (created by Debian's ``postgresql``
package) and the server programs run through ``runuser``.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator, Sequence

__all__ = [
    "PostgresServer",
    "find_postgres_bin",
    "postgres_available",
    "postgres_server",
    "start_postgres",
]

DEFAULT_DATABASE = "kap12_test"
SUPERUSER = "postgres"
_RUN_AS = "postgres"  # system account used when we are root
_LOG_TAIL_LINES = 40
_START_ATTEMPTS = 3
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

_SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "max_connections": "200",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
    "log_min_duration_statement": "-1",
    "timezone": "'UTC'",
}


def _version_key(path: str) -> tuple:
    version = Path(path).parent.parent.name
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.]", version))


def find_postgres_bin() -> Path | None:
    """Directory holding the server programs, highest installed version first.

    ``KAP12_PG_BIN`` overrides the search.
    """
    override = os.environ.get("KAP12_PG_BIN")
    if override:
        path = Path(override)
        return path if (path / "postgres").exists() else None
    candidates = glob.glob("/usr/lib/postgresql/*/bin/postgres")
    if not candidates:
        found = shutil.which("pg_ctl")
        if found and (Path(found).parent / "postgres").exists():
            return Path(found).parent
        return None
    return Path(sorted(candidates, key=_version_key)[-1]).parent


def postgres_available() -> bool:
    return find_postgres_bin() is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"


class PostgresServer:
    """One running PostgreSQL cluster in a temporary directory."""

    def __init__(self, bindir: Path | None = None) -> None:
        found = bindir or find_postgres_bin()
        if found is None or not (Path(found) / "postgres").exists():
            raise RuntimeError(
                "PostgreSQL server programs not found under "
                "/usr/lib/postgresql/*/bin (install Debian's 'postgresql' package)"
            )
        self.bindir = Path(found)
        self.port: int = 0
        self.host = "127.0.0.1"
        self.user = SUPERUSER
        self.database = DEFAULT_DATABASE
        self._as_root = os.geteuid() == 0
        self._owner = None
        if self._as_root:
            try:
                self._owner = pwd.getpwnam(_RUN_AS)
            except KeyError:
                raise RuntimeError(
                    f"running as root but there is no '{_RUN_AS}' user to run "
                    "PostgreSQL as (install Debian's 'postgresql' package)"
                ) from None
        self.tmpdir = Path(tempfile.mkdtemp(prefix="kap12-pg-"))
        self.datadir = self.tmpdir / "data"
        self.logfile = self.tmpdir / "server.log"
        self._running = False
        self._stopped = False
        if self._owner is not None:
            os.chown(self.tmpdir, self._owner.pw_uid, self._owner.pw_gid)

    # -- plumbing -----------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        env.pop("LANG", None)
        return env

    def _command(self, args: Sequence[str]) -> list[str]:
        args = [str(a) for a in args]
        if not self._as_root:
            return args
        runuser = shutil.which("runuser") or (
            "/usr/sbin/runuser" if os.path.exists("/usr/sbin/runuser") else None
        )
        if runuser:
            return [runuser, "-u", _RUN_AS, "--", *args]
        return ["su", _RUN_AS, "-s", "/bin/sh", "-c", shlex.join(args)]

    def _run(self, args: Sequence[str], what: str, timeout: float = 120) -> str:
        cmd = self._command(args)
        try:
            proc = subprocess.run(
                cmd,
                cwd=self.tmpdir,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise self._error(f"{what} failed: {exc}") from exc
        if proc.returncode != 0:
            raise self._error(
                f"{what} failed (exit {proc.returncode}): {shlex.join(cmd)}\n"
                f"{proc.stdout.strip()}"
            )
        return proc.stdout

    def _error(self, message: str) -> RuntimeError:
        return RuntimeError(
            f"{message}\n--- PostgreSQL log ({self.logfile}) ---\n{_tail(self.logfile)}"
        )

    def _initdb(self) -> None:
        initdb = self.bindir / "initdb"
        base = [initdb, "-D", self.datadir, "-A", "trust", "-U", SUPERUSER,
                "--encoding=UTF8"]
        try:
            self._run([*base, "--locale=C.UTF-8"], "initdb")
        except RuntimeError:
            # No C.UTF-8 locale on this machine: plain C still stores UTF-8.
            shutil.rmtree(self.datadir, ignore_errors=True)
            self._run([*base, "--locale=C"], "initdb (locale C)")
        settings = dict(_SERVER_SETTINGS)
        settings["unix_socket_directories"] = "'%s'" % str(self.tmpdir).replace("'", "''")
        with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# throwaway test server\n")
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")

    def _pg_ctl_start(self, port: int) -> None:
        self._run(
            [self.bindir / "pg_ctl", "-D", self.datadir, "-l", self.logfile,
             "-w", "-t", "60", "-o", f"-p {port}", "start"],
            f"pg_ctl start (port {port})",
        )

    # -- public -------------------------------------------------------------

    def start(self) -> "PostgresServer":
        if self._running:
            return self
        try:
            self._initdb()
            last: RuntimeError | None = None
            for _ in range(_START_ATTEMPTS):
                port = _free_port()
                try:
                    self._pg_ctl_start(port)
                except RuntimeError as exc:  # port taken between probe and bind?
                    last = exc
                    continue
                self.port = port
                self._running = True
                break
            else:
                assert last is not None
                raise last
            atexit.register(self.stop)
            self.create_database(self.database)
        except BaseException:
            self.stop()
            raise
        return self

    def url_for(self, database: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.user}@{self.host}:{self.port}/{database}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``kap12_test`` database."""
        return self.url_for(self.database)

    @property
    def dsn(self) -> str:
        """libpq connection string of ``kap12_test`` (for psycopg.connect)."""
        return f"host={self.host} port={self.port} user={self.user} dbname={self.database}"

    def create_database(self, name: str) -> str:
        """Create database *name* and return its SQLAlchemy URL."""
        if not _NAME_RE.match(name):
            raise ValueError(f"not a plain database name: {name!r}")
        if not self._running:
            raise RuntimeError("PostgreSQL server is not running")
        self._run(
            [self.bindir / "createdb", "-h", self.host, "-p", str(self.port),
             "-U", self.user, "-T", "template0", "-E", "UTF8", name],
            f"createdb {name}",
        )
        return self.url_for(name)

    def restart(self) -> None:
        """Stop the server (ending every connection) and start it again on the same port."""
        self._run([self.bindir / "pg_ctl", "-D", self.datadir, "-m", "fast", "-w", "-t", "60", "stop"],
                  "pg_ctl stop (restart)")
        self._pg_ctl_start(self.port)

    def stop(self) -> None:
        """Stop the server at once and remove its directory (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)
        try:
            if self._running and (self.datadir / "postmaster.pid").exists():
                with contextlib.suppress(Exception):
                    self._run(
                        [self.bindir / "pg_ctl", "-D", self.datadir, "-m",
                         "immediate", "-w", "-t", "30", "stop"],
                        "pg_ctl stop",
                    )
        finally:
            self._running = False
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    @property
    def running(self) -> bool:
        return self._running

    def __enter__(self) -> "PostgresServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped"
        return f"<PostgresServer {self.host}:{self.port} {state} {self.tmpdir}>"


def start_postgres(bindir: Path | None = None) -> PostgresServer:
    """Start a fresh server with database ``kap12_test``; call ``.stop()``."""
    return PostgresServer(bindir).start()


@contextlib.contextmanager
def postgres_server(bindir: Path | None = None) -> Iterator[PostgresServer]:
    """``with postgres_server() as pg:`` -- stopped and removed on exit."""
    server = start_postgres(bindir)
    try:
        yield server
    finally:
        server.stop()
