"""The staff overview page (``/admin/overview/``): the queue and the pipeline at a glance."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from adventures import selectors

from . import queue
from .cli import human_age

FAILED_WINDOW = timedelta(hours=24)
FAILED_SHOWN = 50


def overview(request: HttpRequest) -> HttpResponse:
    """Wrapped in ``admin.site.admin_view`` in the URLconf: staff only."""
    now = timezone.now()
    counts = queue.job_counts()
    statuses = sorted({status for per_queue in counts.values() for status in per_queue})
    waiting = queue.oldest_waiting()
    failed = selectors.failed_entries(since=now - FAILED_WINDOW)
    context = {
        **admin.site.each_context(request),
        "title": "Pipeline overview",
        "statuses": statuses,
        "queues": [
            (queue, [per_queue.get(status, 0) for status in statuses])
            for queue, per_queue in counts.items()
        ],
        "waiting": [
            (queue, job.job_id, human_age(job.age(now)), job.waiting_since)
            for queue, job in waiting.items()
        ],
        "stalled": list(queue.stalled_jobs()),
        "failed_count": failed.count(),
        "failed": list(failed[:FAILED_SHOWN]),
        "failed_shown": FAILED_SHOWN,
    }
    return TemplateResponse(request, "admin/operations/overview.html", context)
