"""The worker's metrics (``langlearn.metrics``), served on its own port:
``WORKER_METRICS_HOST:WORKER_METRICS_PORT`` (by default none; 127.0.0.1 when
set, so that only the machine itself, or a scraper beside it in a private
network when the host is ``0.0.0.0``, can read them)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from prometheus_client import REGISTRY, start_http_server

logger = logging.getLogger(__name__)


class MetricsPortError(Exception):
    """The metrics port cannot be listened on; the message says which and why."""


@contextmanager
def serving() -> Iterator[None]:
    """Serve the metrics for the block (nothing when ``WORKER_METRICS_PORT`` is 0)."""
    port, host = settings.WORKER_METRICS_PORT, settings.WORKER_METRICS_HOST
    if not port:
        yield
        return
    try:
        server, thread = start_http_server(port, addr=host, registry=REGISTRY)
    except OSError as exc:
        raise MetricsPortError(
            f"WORKER_METRICS_PORT: cannot listen on {host}:{port} ({exc.strerror or exc}); "
            "give each worker on this machine a port of its own, or 0 for none"
        ) from None
    logger.info("metrics at http://%s:%s/metrics", host, port)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
