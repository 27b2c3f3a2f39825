"""The test database: the embedded PostgreSQL is stopped again if this test
run started it; ``truncate_jobs`` empties Procrastinate's tables.

Under pytest-xdist each worker has a database of its own on the one server
(pytest-django names them ``test_langlearn_gw0``, ...); the server is the
controller's to start and to stop, once for the whole run. Each is a copy of a
template database migrated once for the current migrations (see
``django_db_modify_db_settings``).
"""

from __future__ import annotations

import hashlib
import importlib
from contextlib import suppress
from pathlib import Path

import pytest
from django.db import DatabaseError, connection
from pytest_django import DjangoDbBlocker

# The advisory lock under which a process builds the template or waits for it.
_TEMPLATE_LOCK = 0x6C616E676C6561  # "langlea"

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


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    request: pytest.FixtureRequest,
    django_db_blocker: DjangoDbBlocker,
) -> None:
    """The test database is created as a copy of a template that holds the
    migrated schema (``CREATE DATABASE ... TEMPLATE``: a tenth of a second),
    instead of being migrated afresh in each process of every run (two
    seconds). The template is named after the migration files of every
    installed app, ours and the libraries', so that changing, adding or
    removing one builds a new template; it stays on the server between runs
    (``--create-db`` builds it again). Django's test set-up still runs
    ``migrate`` on the copy, which then finds nothing to apply."""
    if request.config.getvalue("nomigrations"):
        return
    with django_db_blocker.unblock():
        template = _migrated_template(rebuild=request.config.getvalue("create_db"))
    connection.settings_dict.setdefault("TEST", {})["TEMPLATE"] = template


def _migrated_template(*, rebuild: bool) -> str:
    """The name of a database migrated with the current migrations, built if
    there is none; one process builds it while the others wait."""
    quote = connection.ops.quote_name
    prefix = f"test_{connection.settings_dict['NAME']}_template_"
    template = prefix + _migrations_digest()
    with connection._nodb_cursor() as cursor:
        # Held until this session ends, at the end of the block.
        cursor.execute("SELECT pg_advisory_lock(%s)", [_TEMPLATE_LOCK])
        if rebuild:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(template)}")
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
        if cursor.fetchone() is None:
            building = f"{template}_building"
            _migrate_into(building)
            # Complete under its name, or not there at all.
            cursor.execute(f"ALTER DATABASE {quote(building)} RENAME TO {quote(template)}")
            cursor.execute(
                "SELECT datname FROM pg_database WHERE starts_with(datname, %s) AND datname <> %s",
                [prefix, template],
            )
            for (stale,) in cursor.fetchall():
                # Another checkout's run may still be copying it: then it stays.
                with suppress(DatabaseError):
                    cursor.execute(f"DROP DATABASE {quote(stale)}")
    return template


def _migrate_into(name: str) -> None:
    """Create database ``name`` and migrate it, as Django's test set-up
    creates a test database (whatever is there under that name is dropped)."""
    from django.conf import settings

    test_settings = connection.settings_dict.setdefault("TEST", {})
    saved_test, saved_name = dict(test_settings), connection.settings_dict["NAME"]
    test_settings["NAME"] = name
    test_settings.pop("TEMPLATE", None)
    try:
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    finally:
        connection.close()
        test_settings.clear()
        test_settings.update(saved_test)
        connection.settings_dict["NAME"] = saved_name
        settings.DATABASES[connection.alias]["NAME"] = saved_name


def _migrations_digest() -> str:
    """A digest of the migration files of every installed app."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    digest = hashlib.sha256()
    for config in apps.get_app_configs():
        module_name, _ = MigrationLoader.migrations_module(config.label)
        try:
            module = importlib.import_module(module_name) if module_name else None
        except ModuleNotFoundError:
            module = None
        for folder in getattr(module, "__path__", []):
            for path in sorted(Path(folder).glob("*.py")):
                digest.update(f"{config.label}/{path.name}\0".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
