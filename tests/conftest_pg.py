"""A real, throwaway PostgreSQL server for tests (Debian's postgresql, started by the test).

Import the ``pg_server`` fixture into a conftest (``from tests.conftest_pg import pg_server``)
and call ``pg_server.new_database()`` for an empty database URL per test. The cluster lives
in a temp folder on a free loopback port. PostgreSQL refuses to run as root, so under root the
folder is given to the ``postgres`` user and the server runs through ``runuser``. If the server
cannot start the fixture FAILS — a store test that silently skipped PostgreSQL would hide the
very thing it is there to check.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import pytest

#: where Debian puts the server binaries; newest version first
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
START_TIMEOUT_S = 30.0
#: free space wanted on /dev/shm before the cluster goes there [bytes]
SHM_NEEDED_BYTES = 2 * 1024**3


def pg_bin_dir() -> Path:
    """The newest PostgreSQL server bin folder, or fail with how to install one."""
    found = sorted(glob.glob(PG_BIN_GLOB), key=lambda p: int(Path(p).parent.name), reverse=True)
    for d in found:
        if (Path(d) / "initdb").exists():
            return Path(d)
    pytest.fail("PostgreSQL server binaries not found: apt-get install postgresql", pytrace=False)


def _scratch_dir() -> str | None:
    """RAM-backed /dev/shm when it has room (a throwaway cluster needs no disk flushes; the
    tests check what the server does with commits, not the disk under it), else the temp dir."""
    try:
        st = os.statvfs("/dev/shm")
    except OSError:
        return None
    return "/dev/shm" if st.f_bavail * st.f_frsize > SHM_NEEDED_BYTES else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    """A running throwaway cluster; ``new_database()`` hands out empty databases."""

    port: int
    data_dir: Path
    process: subprocess.Popen
    _n: count = field(default_factory=lambda: count(1))

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (psycopg 3 driver) of one database, as the ``postgres`` superuser."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def new_database(self, prefix: str = "t", template: str | None = None) -> str:
        """Create a database (empty, or a copy of ``template``) and return its URL."""
        import psycopg

        name = f"{prefix}_{next(self._n)}_{os.getpid()}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            tmpl = f' TEMPLATE "{template}"' if template else ""
            conn.execute(f'CREATE DATABASE "{name}"{tmpl}')
        return self.url(name)


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser") is None:
        pytest.fail("running as root needs runuser to start PostgreSQL as postgres")
    return ["runuser", "-u", "postgres", "--", *cmd]


def start_pg_server() -> PgServer:
    """initdb + postgres on a free port in a fresh temp folder; fails loudly on any error."""
    bin_dir = pg_bin_dir()
    base = Path(tempfile.mkdtemp(prefix="streettwin-pg-", dir=_scratch_dir()))
    data = base / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(data, "postgres", "postgres")
    init = subprocess.run(
        _as_postgres(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "--no-sync", "-E", "UTF8", "--locale=C"]
        ),
        capture_output=True,
        text=True,
    )  # fmt: skip
    if init.returncode != 0:
        pytest.fail(f"initdb failed:\n{init.stderr[-2000:]}", pytrace=False)
    port = _free_port()
    log = open(base / "server.log", "w")  # noqa: SIM115 - the server writes it until teardown
    if os.geteuid() == 0:
        shutil.chown(base / "server.log", "postgres", "postgres")
    proc = subprocess.Popen(
        _as_postgres(
            [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={base}",
             "-c", "max_connections=50", "-c", "shared_buffers=32MB"]
        ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + START_TIMEOUT_S
    import psycopg

    while True:
        try:
            psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres").close()
            break
        except psycopg.OperationalError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                text = (base / "server.log").read_text()[-2000:]
                pytest.fail(f"PostgreSQL did not start:\n{text}", pytrace=False)
            time.sleep(0.1)
    return PgServer(port=port, data_dir=data, process=proc)


def stop_pg_server(server: PgServer) -> None:
    """Fast shutdown of the server this test session started, then remove its folder."""
    # "immediate": no shutdown checkpoint — the cluster is thrown away, and flushing dozens of
    # copied test databases on a busy disk takes longer than the tests
    subprocess.run(
        _as_postgres(
            [str(pg_bin_dir() / "pg_ctl"), "stop", "-m", "immediate", "-D", str(server.data_dir)]
        ),
        capture_output=True,
        timeout=30,
    )
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
    shutil.rmtree(server.data_dir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server for the whole test session."""
    server = start_pg_server()
    yield server
    stop_pg_server(server)
