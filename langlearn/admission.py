"""Admission control for the web server's sync requests: a web process serves
``WEB_THREADS`` of them at once; the rest wait their turn, in order, without
a thread or a database connection, for up to ``WEB_QUEUE_TIMEOUT`` seconds,
and only then get a 503 with ``Retry-After``.

A burst (a classroom signing up in the same minute) is worked through instead
of turned away: each admitted request finds a pooled connection free
(``WEB_DB_POOL_SIZE`` defaults to ``WEB_THREADS`` + 1), so none fails on the
pool's timeout, and the machine's CPUs are shared by a few requests at a time
rather than by every request that arrived. docs/deployment.md has the sizing.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

BUSY_DETAIL = "The service is busy. Please try again in a moment."


class Busy(Exception):
    """No slot came free within the deadline."""


class Admission:
    """At most ``slots`` requests inside at once; the others wait, first come
    first served (asyncio's semaphore wakes its waiters in order), for up to
    ``timeout`` seconds. Used from one event loop (one per web process)."""

    def __init__(self, *, slots: int, timeout: float) -> None:
        self.slots = slots
        self.timeout = timeout
        self._semaphore = asyncio.Semaphore(slots)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """A slot for the block; ``Busy`` once ``timeout`` passes without one.
        A client that disconnects while waiting (the request is cancelled)
        takes no slot."""
        try:
            async with asyncio.timeout(self.timeout):
                await self._semaphore.acquire()
        except TimeoutError:
            raise Busy from None
        try:
            yield
        finally:
            self._semaphore.release()

    @property
    def retry_after(self) -> int:
        """What a refused client is told to wait (``Retry-After``, seconds):
        as long as it waited already, the time a full line takes to clear."""
        return max(1, math.ceil(self.timeout))


def busy_response(request: HttpRequest, admission: Admission, waited: float) -> HttpResponse:
    """503 with ``Retry-After``: JSON ``{"detail", "code": "busy"}`` under
    ``/api/``, plain text elsewhere (the admin)."""
    logger.warning(
        "busy: %s %s waited %.1fs for one of %d request slots; answered 503",
        request.method,
        request.path,
        waited,
        admission.slots,
    )
    response: HttpResponse
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"detail": BUSY_DETAIL, "code": "busy"}, status=503)
    else:
        response = HttpResponse(BUSY_DETAIL, content_type="text/plain", status=503)
    response["Retry-After"] = str(admission.retry_after)
    response["Cache-Control"] = "no-store"
    return response
