"""Django's PostgreSQL backend, pointed at the embedded server on first connect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base

from . import SUPERUSER, ensure_database, ensure_running


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        data_dir = Path(settings.EMBEDDED_DB_DIR)
        socket_dir = ensure_running(data_dir)
        # The primary database is created on demand; test databases are
        # created by Django's test runner itself.
        primary = settings.EMBEDDED_DB_NAME
        if self.settings_dict["NAME"] == primary:
            ensure_database(data_dir, primary)
        params = super().get_connection_params()
        params["host"] = str(socket_dir)
        params["user"] = SUPERUSER
        params.pop("port", None)
        return params
