"""The benchmark's database: its creation and removal, and the queries the
sections share (the bench process runs Django against it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from .processes import ROOT, BenchError


def conninfo(dbname: str) -> dict[str, Any]:
    """psycopg connection parameters for ``dbname`` on the configured server."""
    from django.db import connection

    params = connection.get_connection_params()  # starts the embedded server if needed
    keep = {"host", "port", "user", "password", "sslmode", "sslrootcert", "connect_timeout"}
    return {key: value for key, value in params.items() if key in keep} | {"dbname": dbname}


def admin_database() -> str:
    """A database to connect to while creating or dropping the benchmark's."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "postgres"
    import dj_database_url

    return dj_database_url.parse(url)["NAME"] or "postgres"


def drop_database(name: str, *, create: bool = False) -> None:
    """Drop ``name`` (closing every connection to it); create it afresh if asked."""
    from django.db import connections

    connections.close_all()
    with psycopg.connect(**conninfo(admin_database()), autocommit=True) as admin:
        database = sql.Identifier(name)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        if create:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(database))


def embedded_data_dir() -> Path | None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "langlearn.embedded_pg":
        return None
    return Path(settings.EMBEDDED_DB_DIR)


def track_commit_timestamps(data_dir: Path) -> None:
    """Have the run's own server record when each transaction commits.

    The setting needs a restart.
    """
    from langlearn.embedded_pg import ensure_running, stop

    with psycopg.connect(**conninfo("postgres"), autocommit=True) as admin:
        admin.execute("ALTER SYSTEM SET track_commit_timestamp = on")
    stop(data_dir)
    ensure_running(data_dir, recheck=True)


def commit_timestamps_on() -> bool:
    [(value,)] = query("SHOW track_commit_timestamp")
    return value == "on"


def event_time(alias: str, *, exact: bool) -> str:
    """SQL for when the Procrastinate event ``alias`` happened: the commit of the
    transaction that wrote it when commit timestamps are tracked (``exact``),
    else its own time, ``now()``: the *start* of that transaction."""
    return f"pg_xact_commit_timestamp({alias}.xmin)" if exact else f"{alias}.at"


def migrate(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode:
        raise BenchError(f"manage.py migrate failed:\n{result.stdout}{result.stderr}")


def query(sql_text: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql_text, params)
        return cursor.fetchall() if cursor.description else []


def clear_adventures_and_jobs() -> None:
    query("TRUNCATE adventures_adventure, procrastinate_jobs, procrastinate_workers CASCADE")


def make_learners(count: int, prefix: str = "bench") -> list[str]:
    """``count`` learners (cheap unusable passwords) named ``<prefix>-<n>``;
    their access tokens."""
    from django.contrib.auth.hashers import make_password
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User

    users = User.objects.bulk_create(
        User(username=f"{prefix}-{i:04d}", password=make_password(None), native_language="en")
        for i in range(count)
    )
    return [str(AccessToken.for_user(user)) for user in users]


def worker_listening(count: int = 1) -> bool:
    """``count`` workers have registered themselves and their LISTEN connections are up."""
    [(workers, listeners)] = query(
        "SELECT (SELECT count(*) FROM procrastinate_workers), "
        "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND query LIKE 'LISTEN %%procrastinate%%')"
    )
    return workers >= count and listeners >= count


def jobs_left() -> int:
    """Jobs not yet ended (queued or running)."""
    [(left,)] = query("SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")
    return int(left)


def connections() -> int:
    """Client connections to the benchmark database, this one included."""
    [(count,)] = query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend'"
    )
    return int(count)
