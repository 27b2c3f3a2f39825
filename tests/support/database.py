"""The test database: the embedded PostgreSQL is stopped again if this test
run started it; ``truncate_jobs`` empties Procrastinate's tables.

Under pytest-xdist each worker has a database of its own on the one server
(pytest-django names them ``test_langlearn_gw0``, ...); the server is the
controller's to start and to stop, once for the whole run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection
from pytest_django import DjangoDbBlocker

_STARTED_BY_US = pytest.StashKey[bool]()


def _embedded_dir() -> Path | None:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "langlearn.embedded_pg":
        return None
    return Path(settings.EMBEDDED_DB_DIR)


def _xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    data_dir = _embedded_dir()
    if _xdist_worker(session.config):
        return
    session.config.stash[_STARTED_BY_US] = bool(
        data_dir and not (data_dir / "postmaster.pid").exists()
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Leave the machine as the run found it: a server that was running (a
    developer's) keeps running; one the tests started is stopped."""
    data_dir = _embedded_dir()
    if _xdist_worker(session.config):
        return
    if data_dir and session.config.stash.get(_STARTED_BY_US, False):
        from langlearn import embedded_pg

        embedded_pg.stop(data_dir)


def truncate_jobs() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procrastinate_jobs, procrastinate_events, "
            "procrastinate_periodic_defers, procrastinate_workers CASCADE"
        )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> None:
    """The test database commits without waiting for its WAL to reach the disk
    (``synchronous_commit = off``; for every session that connects to it, the
    workers and servers the tests start included): nothing in a test run needs
    to survive a crash of the server, and each commit is then ~0.2 ms instead of
    a disk flush. A server that is stopped cleanly still writes everything."""
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        name = connection.ops.quote_name(connection.settings_dict["NAME"])
        cursor.execute(f"ALTER DATABASE {name} SET synchronous_commit TO off")
        cursor.execute("SET synchronous_commit TO off")
