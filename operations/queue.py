"""Read-only numbers about the job queue, for staff and operators.

Used by the admin overview page and the ``queue_status`` command. Everything
here reads Procrastinate's tables (through its Django models or plain SQL) and
never changes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob


def stalled_after() -> timedelta:
    """How long a worker may stay silent before its jobs count as stalled: the
    same ``WORKER_STALLED_TIMEOUT`` the rescue task uses."""
    return timedelta(seconds=settings.WORKER_STALLED_TIMEOUT)


@dataclass(frozen=True)
class WaitingJob:
    """The job that has waited longest to start, in one queue."""

    queue: str
    job_id: int
    waiting_since: datetime

    def age(self, now: datetime) -> timedelta:
        return max(now - self.waiting_since, timedelta(0))


def job_counts() -> dict[str, dict[str, int]]:
    """``{queue: {status: count}}`` for every queue that has jobs."""
    rows = (
        ProcrastinateJob.objects.values_list("queue_name", "status")
        .annotate(n=Count("id"))
        .order_by("queue_name", "status")
    )
    counts: dict[str, dict[str, int]] = {}
    for queue, status, n in rows:
        counts.setdefault(queue, {})[status] = n
    return counts


# A job is waiting from when it became runnable: its schedule if it has one
# (retries are scheduled), else its latest deferral.
_OLDEST_WAITING_SQL = """
SELECT DISTINCT ON (queue_name) queue_name, id, since
  FROM (
    SELECT job.id, job.queue_name,
           COALESCE(job.scheduled_at, (
             SELECT max(event.at) FROM procrastinate_events event
              WHERE event.job_id = job.id AND event.type IN ('deferred', 'deferred_for_retry')
           )) AS since
      FROM procrastinate_jobs job
     WHERE job.status = 'todo' AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
  ) waiting
 WHERE since IS NOT NULL
 ORDER BY queue_name, since, id
"""


def oldest_waiting() -> dict[str, WaitingJob]:
    """Per queue, the runnable ``todo`` job that has waited longest."""
    with connection.cursor() as cursor:
        cursor.execute(_OLDEST_WAITING_SQL)
        rows = cursor.fetchall()
    return {queue: WaitingJob(queue, job_id, since) for queue, job_id, since in rows}


def stalled_jobs(silent_for: timedelta | None = None) -> QuerySet[ProcrastinateJob]:
    """Running jobs whose worker is gone or silent (for ``silent_for``, by default
    ``stalled_after()``), as Procrastinate's ``JobManager.get_stalled_jobs`` finds
    them (same rule, sync and in Django)."""
    cutoff = timezone.now() - (silent_for if silent_for is not None else stalled_after())
    return (
        ProcrastinateJob.objects.filter(status="doing")
        .filter(Q(worker__isnull=True) | Q(worker__last_heartbeat__lt=cutoff))
        .select_related("worker")
        .order_by("id")
    )


# --- The nightly news digest --------------------------------------------


def digest_runs(now: datetime) -> dict[str, Any]:
    """The next nightly digest run (from ``DIGEST_CRON``) and the last one: its
    job, the tick it ran for, and the digests of the day it digested by status."""
    import croniter

    from news.models import Digest
    from news.tasks import news_date

    following = croniter.croniter(settings.DIGEST_CRON, now).get_next(datetime)
    job = (
        ProcrastinateJob.objects.filter(task_name="news.nightly_digest")
        .order_by("-id")
        .values("id", "status", "args")
        .first()
    )
    last: dict[str, Any] | None = None
    if job is not None:
        tick = job["args"].get("timestamp")
        date = news_date(int(tick)) if tick is not None else None
        last = {
            "job_id": job["id"],
            "status": job["status"],
            "tick": datetime.fromtimestamp(tick, tz=UTC).isoformat() if tick else None,
            "news_date": date.isoformat() if date else None,
        }
    newest = Digest.objects.order_by("-date").values_list("date", flat=True).first()
    statuses: dict[str, int] = {}
    if newest is not None:
        rows = (
            Digest.objects.filter(date=newest)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by("status")
        )
        statuses = {status: n for status, n in rows}
    return {
        "cron": settings.DIGEST_CRON,
        "next_run": following.isoformat(),
        "last_run": last,
        "newest_digests": {
            "date": newest.isoformat() if newest else None,
            "statuses": statuses,
        },
    }
