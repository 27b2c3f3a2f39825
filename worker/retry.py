"""When a failed job runs again: the retry strategy of the pipelines' jobs."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone
from procrastinate import JobContext, RetryDecision
from procrastinate.exceptions import JobAborted
from procrastinate.retry import BaseRetryStrategy

from outbound.errors import ProviderError

if TYPE_CHECKING:
    from procrastinate.jobs import Job


def is_transient(exception: BaseException) -> bool:
    """Whether trying again later may succeed."""
    if isinstance(exception, ProviderError):
        return exception.transient
    # The database went away mid-job (restart, failover): worth another go.
    return isinstance(exception, DatabaseError | ConnectionError | TimeoutError)


class JobRetryStrategy(BaseRetryStrategy):
    """Exponential backoff with jitter and a cap, for transient errors only
    (``settings.PIPELINE_RETRY``).

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


def will_retry(context: JobContext, exception: BaseException) -> bool:
    """Whether the running job will run again after failing with ``exception``.

    Procrastinate has no hook for "this job failed for the last time": a task
    that must record its final failure (so that nothing stays ``generating``)
    asks this before re-raising.
    """
    assert context.task is not None
    return context.task.get_retry_exception(exception=exception, job=context.job) is not None
