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

import logging
from datetime import timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.utils import timezone
from procrastinate import JobContext
from procrastinate.contrib.django import app

from langlearn.logging import observed_job
from worker.orm import db
from worker.retry import JobRetryStrategy, will_retry
from worker.setup import periodic

from . import pipeline, services

if TYPE_CHECKING:
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


@app.task(
    name="adventures.generate_adventure_entry",
    queue=settings.PIPELINE_QUEUE,
    retry=JobRetryStrategy(),
    pass_context=True,
)
@observed_job  # log lines carry job/entry/adventure ids; optional trace_context kwarg
async def generate_adventure_entry(
    context: JobContext, adventure_id: str, entry_id: str, user_id: str
) -> None:
    """Run the pipeline for one entry; when no retry will follow a failure (a
    permanent error, or the last attempt), record it on the entry
    (``services.entry_fail``), so the learner sees ``error`` instead of a story
    stuck in ``generating``. A worker killed mid-job never gets here; the
    stalled-job rescue re-runs that job instead."""
    try:
        await pipeline.run_entry_pipeline(
            adventure_id=UUID(adventure_id),
            entry_id=UUID(entry_id),
            user_id=UUID(user_id),
        )
    except services.EntryGone:
        # Its story was deleted: the run stops at the step boundary it reached.
        logger.info("job %s: entry %s is gone; nothing more to do", context.job.id, entry_id)
    except Exception as exc:
        if will_retry(context, exc):
            logger.warning("entry %s failed, will retry: %s", entry_id, exc)
        else:
            logger.error("entry %s failed for good: %s", entry_id, exc)
            await db(services.entry_fail)(
                entry_id=UUID(entry_id), detail=f"{type(exc).__name__}: {exc}"
            )
        raise


@app.task(
    name="adventures.settle_branches",
    queue=settings.PIPELINE_QUEUE,
    retry=JobRetryStrategy(),
)
async def settle_branches(entry_id: str) -> None:
    """After a decision on ``entry_id``: discard the branches it dropped and
    queue those of the adopted entry (``services.branches_settle``)."""
    await db(services.branches_settle)(entry_id=UUID(entry_id))


@periodic(cron=settings.HISTORY_PRUNE_CRON, periodic_id="prune_history")
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
