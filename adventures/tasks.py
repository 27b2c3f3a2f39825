"""Procrastinate tasks: thin adapters from a job's JSON arguments to a service.

Locks, per job (see ``job_locks``):

- ``queueing_lock = "entry:<id>"``: at most one *queued* job per entry, so an
  entry cannot be queued twice; a second defer raises ``AlreadyEnqueued``.
- ``lock = "adventure:<id>"``: jobs sharing it run one at a time, in the order
  they were queued, so the entries of one adventure are generated in order.
  A branch's job (an entry generated ahead, ``services.branches``) has no lock:
  the branches of an entry are generated side by side, after the entry they
  follow has completed; and it has a lower priority
  (``settings.PREGENERATE_PRIORITY``), so that entries a learner waits for run
  first.

Task names are explicit and stable: they are stored in the job rows, and a
module move must not strand queued jobs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from procrastinate import JobContext, RetryDecision
from procrastinate.contrib.django import app
from procrastinate.exceptions import JobAborted
from procrastinate.manager import get_channel_for_queues
from procrastinate.retry import BaseRetryStrategy

from langlearn.logging import observed_job
from outbound.errors import ProviderError

from . import pipeline, services
from .steps import db

if TYPE_CHECKING:
    from procrastinate import App
    from procrastinate.jobs import Job
    from procrastinate.worker import Worker

    from .models import Entry

logger = logging.getLogger(__name__)


def job_locks(entry: Entry) -> tuple[str | None, str]:
    """``(lock, queueing_lock)`` of the pipeline job of ``entry``."""
    if entry.is_branch:
        return None, f"entry:{entry.id}"
    return f"adventure:{entry.adventure_id}", f"entry:{entry.id}"


def job_priority(entry: Entry) -> int:
    """Procrastinate runs higher priorities first: a branch after the others."""
    return settings.PREGENERATE_PRIORITY if entry.is_branch else 0


def is_transient(exception: BaseException) -> bool:
    """Whether trying again later may succeed."""
    if isinstance(exception, ProviderError):
        return exception.transient
    # The database went away mid-job (restart, failover): worth another go.
    return isinstance(exception, DatabaseError | ConnectionError | TimeoutError)


class PipelineRetryStrategy(BaseRetryStrategy):
    """Exponential backoff with jitter and a cap, for transient errors only.

    ``max_attempts`` counts every run, the first included. Procrastinate's own
    ``RetryStrategy`` counts retries after the first run and has no cap on its
    exponential wait, hence this class. Settings are read at decision time so
    tests (and operators) can shorten the waits.
    """

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, JobAborted | asyncio.CancelledError):
            # Cut off by a worker shutdown (the grace period ran out): the job
            # did not fail, run it again as soon as a worker is up.
            return RetryDecision(retry_at=timezone.now())
        policy = settings.PIPELINE_RETRY
        if not is_transient(exception) or job.attempts + 1 >= policy["max_attempts"]:
            return None
        wait = policy["wait_minimum"] * policy["wait_multiplier"] ** job.attempts
        # The same jitter each time this job's attempt is asked about: the task
        # and the worker's middleware ask too, and must agree with the worker.
        jitter = random.Random(f"{job.id}:{job.attempts}").uniform(0, policy["wait_jitter"])
        wait = min(wait, policy["wait_maximum"]) + jitter
        asked = getattr(exception, "retry_after", None)
        if asked is not None:
            wait = max(wait, asked)  # the provider's Retry-After, when it gave one
        return RetryDecision(retry_at=timezone.now() + timedelta(seconds=wait))


@app.task(
    name="adventures.generate_adventure_entry",
    queue=settings.PIPELINE_QUEUE,
    retry=PipelineRetryStrategy(),
    pass_context=True,
)
@observed_job  # log lines carry job/entry/adventure ids; optional trace_context kwarg
async def generate_adventure_entry(
    context: JobContext, adventure_id: str, entry_id: str, user_id: str
) -> None:
    """Run the pipeline for one entry; record its failure once no retry follows.

    Procrastinate has no hook for "this job failed for the last time", so the
    task asks its own retry strategy: when no retry will follow (a permanent
    error, or the last attempt), it records the failure on the entry before
    re-raising (``services.entry_fail``), so the learner sees ``error`` instead
    of a story stuck in ``generating``. A worker killed mid-job never gets here;
    the stalled-job rescue re-runs that job instead.
    """
    try:
        await pipeline.run_entry_pipeline(
            adventure_id=UUID(adventure_id),
            entry_id=UUID(entry_id),
            user_id=UUID(user_id),
        )
    except services.EntryGone:
        logger.warning("job %s: entry %s is gone; nothing to do", context.job.id, entry_id)
    except Exception as exc:
        assert context.task is not None
        if context.task.get_retry_exception(exception=exc, job=context.job) is None:
            logger.error("entry %s failed for good: %s", entry_id, exc)
            await db(services.entry_fail)(
                entry_id=UUID(entry_id), detail=f"{type(exc).__name__}: {exc}"
            )
        else:
            logger.warning("entry %s failed, will retry: %s", entry_id, exc)
        raise


@app.task(
    name="adventures.settle_branches",
    queue=settings.PIPELINE_QUEUE,
    retry=PipelineRetryStrategy(),
)
async def settle_branches(entry_id: str) -> None:
    """After a decision on ``entry_id``: discard the branches it dropped and
    queue those of the adopted entry (``services.branches_settle``)."""
    await db(services.branches_settle)(entry_id=UUID(entry_id))


@app.task(
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
    ``WORKER_STALLED_TIMEOUT`` seconds its jobs are retried. The pipeline
    resumes after the steps those jobs had finished.
    """
    manager = context.app.job_manager
    stalled = list(
        await manager.get_stalled_jobs(seconds_since_heartbeat=settings.WORKER_STALLED_TIMEOUT)
    )
    for job in stalled:
        logger.warning("rescuing stalled job %s (%s)", job.id, job.call_string)
        await manager.retry_job(job)
    return len(stalled)


@app.task(
    name="adventures.prune_history",
    queue=settings.MAINTENANCE_QUEUE,
    queueing_lock="prune_history",
    pass_context=True,
)
async def prune_history(context: JobContext, timestamp: int) -> int:
    """Keep the tables that only grow at a steady size (daily, see
    ``HISTORY_PRUNE_CRON``): status events superseded for
    ``EVENTS_RETENTION_DAYS`` (``services.entry_events_prune``), and jobs that
    succeeded over ``JOBS_RETENTION_DAYS`` ago, with their events (failed,
    cancelled and aborted jobs stay for staff to read). Returns the events
    deleted."""
    now = timezone.now()
    events = await db(services.entry_events_prune)(
        before=now - timedelta(days=settings.EVENTS_RETENTION_DAYS)
    )
    await context.app.job_manager.delete_old_jobs(nb_hours=settings.JOBS_RETENTION_DAYS * 24)
    logger.info(
        "history pruned: %d superseded status events; jobs that succeeded over %d days ago",
        events,
        settings.JOBS_RETENTION_DAYS,
    )
    return events


# --- Worker set-up (AdventuresConfig.ready) --------------------------------------


def configure_app(procrastinate_app: App) -> None:
    """What the Procrastinate app needs beyond the tasks, once Django is ready.

    - The stalled-job rescue and the history's pruning run periodically. They
      are registered here, on the app itself: ``@app.periodic`` at import time
      registers on Procrastinate's Django blueprint, and copying the blueprint
      into the app registers it a second time, logging "Registering task"
      twice in every command.
    - Workers wake up when a retry they scheduled is due (``wake_when_retry_due``).
    - A worker that does not serve the rescue's queue says so when it starts.
    """
    procrastinate_app.periodic(
        cron=settings.STALLED_RESCUE_CRON, periodic_id="rescue_stalled_jobs"
    )(rescue_stalled_jobs)
    procrastinate_app.periodic(cron=settings.HISTORY_PRUNE_CRON, periodic_id="prune_history")(
        prune_history
    )
    defaults = procrastinate_app.worker_defaults
    procrastinate_app.worker_defaults = {
        **defaults,
        "worker_middleware": [*defaults.get("worker_middleware", []), wake_when_retry_due],
    }
    run_worker_async = procrastinate_app.run_worker_async

    async def run_worker_checking_queues(**options: Any) -> None:
        queues = options.get("queues", procrastinate_app.worker_defaults.get("queues"))
        warn_without_rescue(queues)
        await run_worker_async(**options)

    procrastinate_app.run_worker_async = run_worker_checking_queues  # type: ignore[method-assign]


def warn_without_rescue(queues: Iterable[str] | None) -> None:
    """Warn when a worker's queues leave out the stalled-job rescue's queue."""
    if queues is None or settings.MAINTENANCE_QUEUE in queues:
        return  # None: every queue
    logger.warning(
        "this worker does not serve the %r queue (queues: %s): unless another worker "
        "does, jobs of killed workers stay 'doing' for good, and the entries behind them "
        "wait. Add %s to WORKER_QUEUES (or --queues).",
        settings.MAINTENANCE_QUEUE,
        ", ".join(queues),
        settings.MAINTENANCE_QUEUE,
    )


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
                max(delay, 0.0) + 0.05, _notify_soon, context.app, job.queue, job.id
            )
        raise


_wake_tasks: set[asyncio.Task[None]] = set()


def _notify_soon(procrastinate_app: App, queue: str, job_id: int | None) -> None:
    task = asyncio.ensure_future(_notify(procrastinate_app, queue, job_id))
    _wake_tasks.add(task)  # keep a reference until it is done
    task.add_done_callback(_wake_tasks.discard)


async def _notify(procrastinate_app: App, queue: str, job_id: int | None) -> None:
    payload = json.dumps({"type": "job_inserted", "job_id": job_id})
    try:
        for channel in (*get_channel_for_queues([queue]), *get_channel_for_queues(None)):
            await procrastinate_app.connector.execute_query_async(
                "SELECT pg_notify(%(channel)s, %(payload)s)", channel=channel, payload=payload
            )
    except Exception as exc:  # the next poll picks the job up anyway
        logger.debug("could not wake the workers for job %s: %s", job_id, exc)
