"""A throwaway PostgreSQL server on loopback, from the binaries the `pgserver` wheel ships.

Tests and benchmarks need a real PostgreSQL, and the machines they run on have no Docker and
no system server. `pgserver.get_server` listens on a Unix socket only, but Great Expectations
and some drivers insist on a TCP host, so this runs the same binaries with `pg_ctl` on
127.0.0.1 and a free port. As root (CI), PostgreSQL refuses to run, so the server runs as the
unprivileged user pgserver itself creates for that purpose.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

SYSTEM_USER = "pgserver"


@dataclass
class LocalPostgres:
    """A running local server; `dsn` is a libpq URL with TCP host and port."""

    data_dir: Path
    port: int
    run_as: str | None

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        _pg("pg_ctl", ["-D", str(self.data_dir), "stop", "-m", "fast", "-w"], self.run_as)

    def restart(self) -> None:
        """Stop and start again on the same port (for tests of a server restart mid-load)."""
        self.stop()
        _start(self.data_dir, self.port, self.run_as)


def start_local_postgres(data_dir: Path) -> LocalPostgres:
    """Initialise a cluster in `data_dir` (must not exist or be empty) and start it."""
    run_as = None
    data_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        run_as = SYSTEM_USER
        _prepare_unprivileged_user(data_dir)
    _pg("initdb", ["-D", str(data_dir), "--auth=trust", "--encoding=utf8", "-U", "postgres"],
        run_as)
    port = _free_port()
    _start(data_dir, port, run_as)
    return LocalPostgres(data_dir=data_dir, port=port, run_as=run_as)


def _start(data_dir: Path, port: int, run_as: str | None) -> None:
    options = f"-h 127.0.0.1 -p {port} -k {data_dir} -c fsync=off -c full_page_writes=off"
    _pg("pg_ctl", ["-D", str(data_dir), "-o", options, "-l", str(data_dir / "server.log"),
                   "start", "-w", "-t", "60"], run_as)


def _pg(command: str, args: list[str], run_as: str | None) -> None:
    from pgserver._commands import POSTGRES_BIN_PATH

    # cwd: the server user may not be allowed into the caller's working directory.
    subprocess.run([str(POSTGRES_BIN_PATH / command), *args], check=True, user=run_as,
                   cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=120)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare_unprivileged_user(data_dir: Path) -> None:
    """As root: create the server user and let it run the binaries and own `data_dir`."""
    import stat

    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    read = stat.S_IRGRP | stat.S_IROTH
    execute = stat.S_IXGRP | stat.S_IXOTH
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, read | execute)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", read)
    ensure_prefix_permissions(data_dir)
    shutil.chown(data_dir, SYSTEM_USER, SYSTEM_USER)
    data_dir.chmod(0o700)
