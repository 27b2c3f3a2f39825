"""The web server's entry point (``run.py serve``, ``compose/start-api``):
``gunicorn langlearn.asgi -k langlearn.asgi_worker.UvicornWorker``.

Sync views run in threads, in one hop each (``ASGIHandler``), at most
``WEB_THREADS`` at once; the others wait their turn (``langlearn.admission``).
The events stream (``adventures.live``) is async and holds no thread while it
waits.
"""

from __future__ import annotations

import os
import time

import django
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core.handlers import asgi
from django.core.handlers.base import BaseHandler
from django.http import HttpRequest, HttpResponseBase
from django.urls import Resolver404, get_resolver

from langlearn.admission import Admission, Busy, busy_response

# Answered without waiting in line (see ASGIHandler.get_response_async).
HEALTH_PATH = "/healthz"

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "langlearn.settings")
# Settings read this: database connections come from a pool under ASGI.
os.environ.setdefault("LANGLEARN_SERVER", "asgi")


class ASGIHandler(asgi.ASGIHandler):
    """Django's ASGI handler, with a request for a sync view served by the sync
    middleware chain in one thread hop, as under WSGI.

    Django runs every request under ASGI through its async middleware chain.
    For a sync view that is 15 crossings between the event loop and a thread
    (its two signals included): each ``MiddlewareMixin`` middleware takes one
    per hook (``process_request``, ``process_view``, ``process_response``),
    WhiteNoise (sync only) takes the chain back to the loop, and the view one
    more. Each is a thread wake-up; under load, a fraction of a millisecond.
    Every view of the API but the events stream is sync: those requests now
    take 3 (docs/decisions/0008-asgi-one-thread-hop-per-sync-request.md).
    Async views (the events stream) take Django's async path, unchanged. The
    two chains are the same ``MIDDLEWARE``, instantiated once per mode.
    """

    def __init__(self) -> None:
        super().__init__()
        sync = BaseHandler()
        sync.load_middleware(is_async=False)
        # Thread-sensitive, like Django's own hops: the request's thread,
        # within the ThreadSensitiveContext ``__call__`` opens per request.
        self._get_response_in_thread = sync_to_async(sync.get_response, thread_sensitive=True)
        self.admission = Admission(slots=settings.WEB_THREADS, timeout=settings.WEB_QUEUE_TIMEOUT)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        if _serves_async_view(request):
            return await super().get_response_async(request)
        if request.path_info == HEALTH_PATH:
            # A load balancer's probe does not queue behind a burst: it would
            # time out, and the process be taken out while it works the burst off.
            return await self._get_response_in_thread(request)
        started = time.monotonic()
        try:
            async with self.admission.slot():
                return await self._get_response_in_thread(request)
        except Busy:
            return busy_response(request, self.admission, time.monotonic() - started)


def _serves_async_view(request: HttpRequest) -> bool:
    """Whether the request's URL leads to an async view (a path that leads
    nowhere is answered by the sync chain: its 404, or CommonMiddleware's
    redirect)."""
    try:
        match = get_resolver().resolve(request.path_info)
    except Resolver404:
        return False
    return iscoroutinefunction(match.func)  # as Django's handler tells


django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does
application = ASGIHandler()
