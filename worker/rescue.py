"""The stalled-job rescue: jobs of dead workers go back to the queue.

A worker killed without warning (SIGKILL, OOM, a lost machine) leaves its jobs
``doing`` forever, and every later job sharing their lock waits behind them.
Every worker sends a heartbeat from its event loop each
``WORKER_HEARTBEAT_INTERVAL`` seconds; once one has been silent for
``WORKER_STALLED_TIMEOUT`` seconds, Procrastinate's ``get_stalled_jobs``
returns its jobs and ``retry_job`` queues them again. The pipelines resume
after the steps those jobs had finished.

The rescue runs as a loop beside the worker's jobs (``rescue_loop``, started
by ``manage.py procrastinate worker`` in workers that serve the maintenance
queue), every ``STALLED_RESCUE_INTERVAL`` seconds: one cheap query, and no job
row per check, as a periodic task every few seconds would leave (tens of
thousands a day in ``procrastinate_jobs``). Several workers may rescue at once:
a job that another rescuer re-queued first is no longer ``doing`` and is
skipped.

A slow provider call does not stop the heartbeats (it awaits on the same event
loop); if a heartbeat is late all the same and a live worker's job is re-queued,
the second run finds the entry's advisory lock (``worker.locks``) held and
leaves the entry to the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from procrastinate.exceptions import ConnectorException

from langlearn import metrics

from .setup import wake_workers

if TYPE_CHECKING:
    from procrastinate import App

logger = logging.getLogger(__name__)


async def rescue_stalled_jobs(app: App) -> int:
    """Queue again the jobs of workers silent for ``WORKER_STALLED_TIMEOUT``
    seconds, wake the workers of their queues; return how many were queued."""
    manager = app.job_manager
    stalled = list(
        await manager.get_stalled_jobs(seconds_since_heartbeat=settings.WORKER_STALLED_TIMEOUT)
    )
    rescued = 0
    for job in stalled:
        try:
            await manager.retry_job(job)
        except ConnectorException:
            # Another worker's rescue (or the job's own worker) got there first.
            logger.debug("job %s is no longer doing; left alone", job.id)
            continue
        logger.warning("rescued stalled job %s (%s)", job.id, job.call_string)
        rescued += 1
        metrics.JOBS_RESCUED.inc()
        await wake_workers(app, job.queue, job.id)
    return rescued


async def rescue_loop(app: App, stopping: asyncio.Event) -> None:
    """``rescue_stalled_jobs`` every ``STALLED_RESCUE_INTERVAL`` seconds until
    ``stopping`` is set; a failed check (the database away) is logged and tried
    again. The worker stops it by the event, not by cancelling it alone: a
    cancellation that arrives during a check can be absorbed by the database
    call it interrupts (the ORM's thread hop finishes the call instead), and a
    loop that only waited to be cancelled then ran on and held the worker
    process open after its worker had stopped."""
    interval = settings.STALLED_RESCUE_INTERVAL
    logger.info(
        "rescuing the jobs of workers silent for %ss, checking every %ss",
        settings.WORKER_STALLED_TIMEOUT,
        interval,
    )
    while not stopping.is_set():
        try:
            await rescue_stalled_jobs(app)
        except Exception as exc:
            logger.warning("the stalled-job rescue failed (tried again in %ss): %s", interval, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), interval)
