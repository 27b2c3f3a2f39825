"""Procrastinate tasks: thin adapters from a job's JSON arguments to a service.

Locks, per job (see ``job_locks``):

- ``queueing_lock = "entry:<id>"``: at most one *queued* job per entry, so an
  entry cannot be queued twice; a second defer raises ``AlreadyEnqueued``.
- ``lock = "adventure:<id>"``: jobs sharing it run one at a time, in the order
  they were queued, so the entries of one adventure are generated in order.

Task names are explicit and stable: they are stored in the job rows, and a
module move must not strand queued jobs.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from procrastinate import JobContext, RetryDecision
from procrastinate.contrib.django import app
from procrastinate.exceptions import JobAborted
from procrastinate.retry import BaseRetryStrategy

from langlearn.logging import observed_job
from outbound.errors import ProviderError

from . import pipeline, services
from .steps import db

if TYPE_CHECKING:
    from procrastinate.jobs import Job

    from .models import Entry

logger = logging.getLogger(__name__)


def job_locks(entry: Entry) -> tuple[str, str]:
    """``(lock, queueing_lock)`` of the pipeline job of ``entry``."""
    return f"adventure:{entry.adventure_id}", f"entry:{entry.id}"


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
        wait = min(wait, policy["wait_maximum"]) + random.uniform(0, policy["wait_jitter"])
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


@app.periodic(cron=settings.STALLED_RESCUE_CRON, periodic_id="rescue_stalled_jobs")
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
