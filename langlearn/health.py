"""``/healthz``: readiness and liveness of the web process.

200 ``{"status": "ok"}`` when the database answers and every migration is
applied; otherwise 503 ``{"status": "unavailable"}``. No authentication, no
throttling, and nothing about the failure in the answer (it is logged instead).
"""

from __future__ import annotations

import logging

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)
# Migrations are files shipped with the code: once this process has seen them
# all applied, only the database connection needs checking again.
_migrations_applied = False


def _migrations_pending() -> bool:
    executor = MigrationExecutor(connection)
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    global _migrations_applied
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        if not _migrations_applied:
            if _migrations_pending():
                logger.warning("unhealthy: migrations are not applied")
                return _unavailable()
            _migrations_applied = True
    except Exception as exc:  # any failure means "not ready"; details go to the log
        logger.warning("unhealthy: database unreachable (%s)", type(exc).__name__)
        connection.close_if_unusable_or_obsolete()
        return _unavailable()
    return JsonResponse({"status": "ok"})


def _unavailable() -> JsonResponse:
    return JsonResponse({"status": "unavailable"}, status=503)
