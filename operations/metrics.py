"""``GET /metrics``: the web processes' metrics in the Prometheus format, and
the queue's, read from PostgreSQL as they are scraped.

Not public: it answers only a request with ``Authorization: Bearer
METRICS_TOKEN``; with no token set it is not there at all (404). Under
gunicorn the values of every web process are summed by prometheus-client's
multi-process mode (``PROMETHEUS_MULTIPROC_DIR``, ``langlearn/gunicorn_config.py``);
without it (``manage.py runserver``, tests) this process's own are served.

The queue's figures cost two short queries per scrape, whichever process
answers: jobs by queue, task and status, the oldest runnable job's wait per
queue, the stalled jobs (as the rescue counts them), and the newest day with a
complete news digest.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime, time

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from news.models import Digest

logger = logging.getLogger(__name__)

# A job waits from when it became runnable: its schedule if it has one
# (retries are scheduled), else its latest deferral (operations/queue.py).
_QUEUE_SQL = """
SELECT 'jobs', queue_name, task_name, status::text, count(*)::float8
  FROM procrastinate_jobs
 GROUP BY queue_name, task_name, status
UNION ALL
SELECT 'oldest', queue_name, '', '', EXTRACT(EPOCH FROM now() - min(since))::float8
  FROM (
    SELECT job.queue_name,
           COALESCE(job.scheduled_at, (
             SELECT max(event.at) FROM procrastinate_events event
              WHERE event.job_id = job.id AND event.type IN ('deferred', 'deferred_for_retry')
           )) AS since
      FROM procrastinate_jobs job
     WHERE job.status = 'todo' AND (job.scheduled_at IS NULL OR job.scheduled_at <= now())
  ) waiting
 WHERE since IS NOT NULL
 GROUP BY queue_name
UNION ALL
SELECT 'stalled', '', '', '', count(*)::float8
  FROM procrastinate_jobs job
  LEFT JOIN procrastinate_workers worker ON worker.id = job.worker_id
 WHERE job.status = 'doing'
   AND (worker.id IS NULL
        OR worker.last_heartbeat < now() - make_interval(secs => %s))
"""


class QueueCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily(
            "langlearn_jobs",
            "Jobs in the queue by queue, task and status (succeeded ones are pruned "
            "after JOBS_RETENTION_DAYS).",
            labels=["queue", "task", "status"],
        )
        oldest = GaugeMetricFamily(
            "langlearn_oldest_waiting_job_seconds",
            "How long the runnable job that has waited longest has waited, by queue "
            "(0 when none waits).",
            labels=["queue"],
        )
        stalled = GaugeMetricFamily(
            "langlearn_stalled_jobs",
            "Running jobs whose worker has been silent for WORKER_STALLED_TIMEOUT seconds "
            "(the rescue queues them again).",
        )
        digest = GaugeMetricFamily(
            "langlearn_digest_latest_complete_date_timestamp_seconds",
            "The news day (its 00:00 UTC) of the newest complete digest; 0 if none.",
        )
        queues = {settings.PIPELINE_QUEUE, settings.MAINTENANCE_QUEUE}
        waiting: dict[str, float] = {}
        with connection.cursor() as cursor:
            cursor.execute(_QUEUE_SQL, [settings.WORKER_STALLED_TIMEOUT])
            for kind, queue, task, status, value in cursor.fetchall():
                if kind == "jobs":
                    jobs.add_metric([queue, task, status], value)
                    queues.add(queue)
                elif kind == "oldest":
                    waiting[queue] = max(value, 0.0)
                else:
                    stalled.add_metric([], value)
        for queue in sorted(queues):
            oldest.add_metric([queue], waiting.get(queue, 0.0))
        day = (
            Digest.objects.filter(status=Digest.Status.COMPLETE)
            .order_by("-date")
            .values_list("date", flat=True)
            .first()
        )
        digest.add_metric([], datetime.combine(day, time(), UTC).timestamp() if day else 0.0)
        yield from (jobs, oldest, stalled, digest)


def _process_metrics() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


_READABLE = b"""# HELP langlearn_queue_readable Whether /metrics could read the queue (PostgreSQL).
# TYPE langlearn_queue_readable gauge
langlearn_queue_readable %d
"""


def _queue_metrics() -> bytes:
    registry = CollectorRegistry()
    registry.register(QueueCollector())
    try:
        return generate_latest(registry) + _READABLE % 1
    except DatabaseError as exc:
        # The process's own metrics still answer; the queue's say they could not.
        logger.warning("metrics: cannot read the queue: %s", str(exc).strip().splitlines()[0])
        connection.close_if_unusable_or_obsolete()
        return _READABLE % 0


def _authorized(request: HttpRequest) -> bool:
    expected = f"Bearer {settings.METRICS_TOKEN}".encode()
    given = request.headers.get("Authorization", "").encode()
    return hmac.compare_digest(given, expected)


def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN:
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    if not _authorized(request):
        response = JsonResponse(
            {"detail": "A valid metrics token is required.", "code": "not_authenticated"},
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = _process_metrics() + _queue_metrics()
    return HttpResponse(body, content_type="text/plain; version=0.0.4; charset=utf-8")
