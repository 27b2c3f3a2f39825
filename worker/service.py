"""The worker service: Procrastinate's worker, with what runs beside its jobs.

``manage.py procrastinate worker`` (``worker/management/commands/
procrastinate.py``) runs ``run_worker`` in place of Procrastinate's own
``worker`` sub-command, once the app's connector is open. Procrastinate has no
hook that runs when a worker starts; this is the one place for the tasks that
live as long as the worker:

- the stalled-job rescue (``worker.rescue``), in workers that serve the
  maintenance queue;
- the warm-up (``worker.warmup``): the language data of
  ``WORKER_WARM_LANGUAGES``, loaded in the background;
- the metrics server (``worker.metrics``), on ``WORKER_METRICS_PORT``: a port
  that cannot be listened on stops the worker before it takes a job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from procrastinate import cli

from .metrics import serving
from .rescue import rescue_loop
from .warmup import warm_in_background

if TYPE_CHECKING:
    from procrastinate import App

logger = logging.getLogger(__name__)


def serves_maintenance(queues: Iterable[str] | None) -> bool:
    """Whether a worker on ``queues`` (None: every queue) runs the maintenance queue."""
    return queues is None or settings.MAINTENANCE_QUEUE in queues


async def run_worker(app: App, **kwargs: Any) -> None:
    """Procrastinate's ``worker`` sub-command, with the tasks beside it."""
    with serving():
        await _run_worker(app, **kwargs)


async def _run_worker(app: App, **kwargs: Any) -> None:
    queues = kwargs.get("queues") or app.worker_defaults.get("queues")
    stopping = asyncio.Event()
    beside: list[Coroutine[Any, Any, None]] = [warm_in_background(settings.WORKER_WARM_LANGUAGES)]
    if serves_maintenance(queues):
        beside.append(rescue_loop(app, stopping))
    tasks = [asyncio.create_task(coroutine) for coroutine in beside]
    try:
        await cli.worker_(app=app, **kwargs)
    finally:
        stopping.set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
