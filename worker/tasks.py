"""The worker's own maintenance task: the stalled-job rescue."""

from __future__ import annotations

import logging

from django.conf import settings
from procrastinate import JobContext
from procrastinate.contrib.django import app

from .setup import periodic

logger = logging.getLogger(__name__)


@periodic(cron=settings.STALLED_RESCUE_CRON, periodic_id="rescue_stalled_jobs")
@app.task(
    # The name is stored in job rows: it stays what it was when the rescue
    # lived in ``adventures``.
    name="adventures.rescue_stalled_jobs",
    queue=settings.MAINTENANCE_QUEUE,
    # One queued rescue at a time, and no `lock`: a rescue must never wait
    # behind the jobs it is meant to free.
    queueing_lock="rescue_stalled_jobs",
    pass_context=True,
)
async def rescue_stalled_jobs(context: JobContext, timestamp: int) -> int:
    """Put the jobs of dead workers back in the queue.

    A worker killed without warning (SIGKILL, OOM, a lost machine) leaves its
    jobs ``doing`` forever, and every later job sharing their lock waits behind
    them. Workers send heartbeats; once one has been silent for
    ``WORKER_STALLED_TIMEOUT`` seconds its jobs are retried. The pipelines
    resume after the steps those jobs had finished.
    """
    manager = context.app.job_manager
    stalled = list(
        await manager.get_stalled_jobs(seconds_since_heartbeat=settings.WORKER_STALLED_TIMEOUT)
    )
    for job in stalled:
        logger.warning("rescuing stalled job %s (%s)", job.id, job.call_string)
        await manager.retry_job(job)
    return len(stalled)
