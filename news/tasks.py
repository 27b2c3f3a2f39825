"""The nightly news digest on the worker: a Procrastinate periodic task, no
other scheduler.

``nightly_digest`` runs at ``DIGEST_CRON`` (02:00 UTC by default): it fetches
the enabled sources, makes the previous UTC day's digests ``pending`` (one per
language of ``DIGEST_LANGUAGES`` and level of ``DIGEST_LEVELS``, kept unique by the database) and
queues one ``build_digest`` job per pending digest on the pipeline's queue.

Missed nights: Procrastinate's periodic deferrer, when a worker starts, defers
only the most recent tick, and only if it is at most ``max_delay`` seconds old
(600 by default). ``PROCRASTINATE_PERIODIC_DEFAULTS["max_delay"]`` is set to
``DIGEST_MAX_DELAY`` (a day by default), so a worker that was down from 01:00
to 09:00 still defers the 02:00 run once when it comes back. Procrastinate
records each deferred tick (``procrastinate_periodic_defers``, unique per task
and tick), so a tick is deferred once however many workers start; and the
digests' unique constraint keeps a second run of a day to the same digests.
"""

from __future__ import annotations

import asyncio
import datetime
import logging

from django.conf import settings
from django.db import connection
from procrastinate import JobContext
from procrastinate.contrib.django import app

from langlearn.logging import observed_job
from worker.orm import db
from worker.retry import JobRetryStrategy, will_retry
from worker.setup import periodic

from . import digests, pipeline
from .services import FetchReport, sources_fetch

logger = logging.getLogger(__name__)

NIGHTLY_PERIODIC_ID = "nightly_digest"


def news_date(timestamp: int) -> datetime.date:
    """The day whose news the run at ``timestamp`` (a cron tick) digests: the
    UTC day before it."""
    tick = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
    return tick.date() - datetime.timedelta(days=1)


@periodic(cron=settings.DIGEST_CRON, periodic_id=NIGHTLY_PERIODIC_ID)
@app.task(
    name="news.nightly_digest",
    queue=settings.MAINTENANCE_QUEUE,
    queueing_lock="nightly_digest",
    retry=JobRetryStrategy(),  # the database went away mid-run: again, later
    pass_context=True,
)
async def nightly_digest(context: JobContext, timestamp: int) -> int:
    """Fetch the sources, make the day's digests and queue their jobs; return
    how many jobs were queued."""
    date = news_date(timestamp)
    report = await asyncio.to_thread(_fetch_sources)
    logger.info(
        "nightly digest for %s: fetched %d sources (%d failed), %d new items",
        date,
        len(report.results),
        len(report.failed),
        report.new,
    )
    plan = await db(digests.build_plan)(date=date)
    made = await db(digests.digests_for)(plan)
    if not made:
        logger.warning("nightly digest for %s: no news items that day; no digest made", date)
        return 0
    queued = await db(digests.digests_queue_pending)(digests=made)
    logger.info("nightly digest for %s: %d digests, %d jobs queued", date, len(made), queued)
    return queued


def _fetch_sources() -> FetchReport:
    """Fetch in a thread of its own (feeds take seconds; the ORM thread of the
    worker must not wait for them), closing that thread's connection after."""
    try:
        return sources_fetch()
    finally:
        connection.close()


@app.task(
    name="news.build_digest",
    queue=settings.PIPELINE_QUEUE,
    retry=JobRetryStrategy(),
    pass_context=True,
)
@observed_job
async def build_digest(context: JobContext, digest_id: int) -> None:
    """Run the digest pipeline; record its failure once no retry follows (as
    ``adventures.tasks.generate_adventure_entry`` does for entries)."""
    try:
        await pipeline.run_digest_pipeline(digest_id=digest_id)
    except Exception as exc:
        if will_retry(context, exc):
            logger.warning("digest %s failed, will retry: %s", digest_id, exc)
        else:
            logger.error("digest %s failed for good: %s", digest_id, exc)
            await db(digests.digest_fail)(
                digest_id=digest_id, detail=f"{type(exc).__name__}: {exc}"
            )
        raise
