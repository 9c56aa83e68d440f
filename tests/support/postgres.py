"""A throwaway PostgreSQL server from Debian's packages, once per test session, on a port the OS picks.

`make setup` installs the `postgresql` package when its binaries are missing. The server runs from
a fresh data directory in a temporary folder, listening on 127.0.0.1 only, with trust
authentication for its one user; it is stopped and its folder removed when the session ends.
PostgreSQL refuses to run as root, so as root the cluster is owned and run by the `postgres`
system user the package creates (`runuser`).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pg8000.dbapi
import pytest

USER = "tester"
DATABASE = "app"


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    database: str

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"


def binaries() -> Path:
    """The folder of initdb and pg_ctl: on the PATH, or Debian's versioned folder."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        pytest.fail("PostgreSQL is not installed (initdb not found); run `make setup`, which installs it")
    return Path(candidates[-1]).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bin_dir = binaries()
    root = Path(tempfile.mkdtemp(prefix="uba-postgres-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()

    def run(command: list[str]) -> None:
        subprocess.run(_as_server_user(command), check=True, capture_output=True, text=True, timeout=120)

    try:
        run([str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "--no-sync"])
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        run([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "server.log"), "-w", "start"])
        admin = pg8000.dbapi.connect(user=USER, host="127.0.0.1", port=port, database="postgres")
        admin.autocommit = True
        admin.cursor().execute(f"CREATE DATABASE {DATABASE}")
        admin.close()
        yield Postgres("127.0.0.1", port, USER, DATABASE)
    except subprocess.CalledProcessError as error:
        log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
        pytest.fail(f"PostgreSQL did not start: {error.stderr or error.stdout}\n{log[-2000:]}")
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                           capture_output=True, timeout=60, check=False)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
