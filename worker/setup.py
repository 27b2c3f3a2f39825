"""The worker's set-up: ``on_app_ready`` (``PROCRASTINATE_ON_APP_READY``) is
called once Procrastinate's app exists, in the web process and the worker alike.

- Periodic tasks declared with ``periodic`` are registered on the app itself:
  ``@app.periodic`` at import time registers on Procrastinate's Django
  blueprint, whose periodic tasks are copied into the app again, logging
  "Registering task" twice in every command.
- Workers wake up when a retry they scheduled is due (``wake_when_retry_due``).
- Every job run is counted and timed (``count_jobs``, ``langlearn.metrics``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from django.utils import timezone
from procrastinate import JobContext
from procrastinate.manager import get_channel_for_queues

from langlearn import metrics

from .retry import will_retry

if TYPE_CHECKING:
    from procrastinate import App
    from procrastinate.tasks import Task
    from procrastinate.worker import Worker

logger = logging.getLogger(__name__)

T = TypeVar("T", bound="Task")

_periodic: list[tuple[Task, str, str]] = []


def periodic(*, cron: str, periodic_id: str) -> Callable[[T], T]:
    """Run the task on ``cron`` (as ``@app.periodic``), registered on the app
    by ``on_app_ready``; put it above ``@app.task``."""

    def register(task: T) -> T:
        _periodic.append((task, cron, periodic_id))
        return task

    return register


def on_app_ready(app: App) -> None:
    for task, cron, periodic_id in _periodic:
        app.periodic(cron=cron, periodic_id=periodic_id)(task)
    defaults = app.worker_defaults
    app.worker_defaults = {
        **defaults,
        "worker_middleware": [
            *defaults.get("worker_middleware", []),
            count_jobs,
            wake_when_retry_due,
        ],
    }


async def count_jobs(
    call_next: Callable[[], Awaitable[Any]], context: JobContext, worker: Worker
) -> Any:
    """A Procrastinate worker middleware: each run of a job timed by how it
    ended (succeeded, retried: queued again for a later attempt, failed: for
    good), retries and final failures counted by task."""
    task = context.job.task_name
    started = time.monotonic()
    try:
        result = await call_next()
    except BaseException as exc:
        retried = context.task is not None and will_retry(context, exc)
        outcome = "retried" if retried else "failed"
        metrics.JOB_SECONDS.labels(task, outcome).observe(time.monotonic() - started)
        (metrics.JOB_RETRIES if retried else metrics.JOB_FAILURES).labels(task).inc()
        raise
    metrics.JOB_SECONDS.labels(task, "succeeded").observe(time.monotonic() - started)
    return result


async def wake_when_retry_due(
    call_next: Callable[[], Awaitable[Any]], context: JobContext, worker: Worker
) -> Any:
    """A Procrastinate worker middleware: when a job fails and will be retried,
    wake the workers of its queue at the moment the retry is due.

    Procrastinate's workers are woken by a NOTIFY when a job is inserted, and
    otherwise poll every ``WORKER_POLLING_INTERVAL`` seconds; a job put back
    for a retry sends no NOTIFY, so a retry due in 0.2 s would wait for the
    next poll. This sends the NOTIFY Procrastinate's insert trigger sends
    (``procrastinate_notify_queue_job_inserted_v1``) when the retry is due.
    """
    try:
        return await call_next()
    except Exception as exc:
        job, task = context.job, context.task
        retry = task.get_retry_exception(exception=exc, job=job) if task else None
        if retry is not None:
            due = retry.retry_decision.retry_at
            delay = (due - timezone.now()).total_seconds() if due else 0.0
            # A little after: the worker records the retry once we return.
            asyncio.get_running_loop().call_later(
                max(delay, 0.0) + 0.05, _wake_soon, context.app, job.queue, job.id
            )
        raise


_wake_tasks: set[asyncio.Task[None]] = set()


def _wake_soon(app: App, queue: str, job_id: int | None) -> None:
    task = asyncio.ensure_future(wake_workers(app, queue, job_id))
    _wake_tasks.add(task)  # keep a reference until it is done
    task.add_done_callback(_wake_tasks.discard)


async def wake_workers(app: App, queue: str, job_id: int | None) -> None:
    """Send the NOTIFY of a job inserted into ``queue``: the workers of that
    queue (and those of every queue) look for a job now, not at their next poll."""
    payload = json.dumps({"type": "job_inserted", "job_id": job_id})
    try:
        for channel in (*get_channel_for_queues([queue]), *get_channel_for_queues(None)):
            await app.connector.execute_query_async(
                "SELECT pg_notify(%(channel)s, %(payload)s)", channel=channel, payload=payload
            )
    except Exception as exc:  # the next poll picks the job up anyway
        logger.debug("could not wake the workers for job %s: %s", job_id, exc)
