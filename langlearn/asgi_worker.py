"""gunicorn's worker class for the web server: ``-k langlearn.asgi_worker.UvicornWorker``.

uvicorn-worker's, with one change: on a graceful stop (SIGTERM, Ctrl-C under
``run.py serve``) uvicorn waits for open connections to finish, and an event
stream (``GET /api/adventures/{id}/events``) never does; after
``SHUTDOWN_GRACE_SECONDS`` the requests still open are cancelled, so a stop
takes seconds, not gunicorn's whole ``--graceful-timeout``. Browsers'
``EventSource`` reconnects by itself, with ``Last-Event-ID``, to another process.
"""

from __future__ import annotations

from typing import Any

from uvicorn_worker import UvicornWorker as _UvicornWorker

SHUTDOWN_GRACE_SECONDS = 5


class UvicornWorker(_UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {
        **_UvicornWorker.CONFIG_KWARGS,
        "timeout_graceful_shutdown": SHUTDOWN_GRACE_SECONDS,
    }
