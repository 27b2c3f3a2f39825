"""The worker's own maintenance task: a stalled-job rescue on demand.

Workers rescue stalled jobs by themselves (``worker.rescue.rescue_loop``); this
task runs one rescue as a job, for an operator
(``manage.py procrastinate defer adventures.rescue_stalled_jobs``) and for jobs
of it that a periodic schedule queued before the loop existed.
"""

from __future__ import annotations

from django.conf import settings
from procrastinate import JobContext
from procrastinate.contrib.django import app

from .rescue import rescue_stalled_jobs as rescue


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
async def rescue_stalled_jobs(context: JobContext, timestamp: int | None = None) -> int:
    """Put the jobs of dead workers back in the queue (``worker.rescue``)."""
    return await rescue(context.app)
