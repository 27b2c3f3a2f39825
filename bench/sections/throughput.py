"""The ``throughput`` and ``memory`` sections: many entries queued at once for
one worker, the stub providers waiting their ``--latencies``.

``seconds`` from the commit that made every job visible to the last entry's
``completed_at``, against ``ideal_seconds`` (the critical path times the
entries, over the worker's concurrency); meanwhile, the peak resident memory of
the web server and the worker (``memory``).
"""

from __future__ import annotations

import time
from typing import Any, cast

from ..plan import ADVENTURE, Plan, step
from ..processes import BenchError, Child, MemorySampler
from ..stats import critical_path_ms


def queue_at_once(count: int, theme: str = "throughput") -> float:
    """Create ``count`` adventures (one entry each) in one transaction, with the
    service the API calls; return the wall-clock time right after the commit
    made all their jobs visible."""
    from django.db import transaction

    from accounts.models import User
    from adventures import services

    users = list(User.objects.order_by("username"))
    with transaction.atomic():
        for index in range(count):
            services.adventure_create(
                user=users[index % len(users)],
                target_language=ADVENTURE["target_language"],
                native_language=ADVENTURE["native_language"],
                theme=theme,
            )
    return time.time()


def drain(
    count: int, *, queued_at: float, worker: Child, timeout: float, theme: str = "throughput"
) -> float:
    """Seconds from ``queued_at`` until the last entry of ``theme`` completed."""
    from django.db.models import Count, Max, Q

    from adventures.models import Entry

    entries = Entry.objects.filter(adventure__theme=theme)
    deadline = time.monotonic() + timeout
    while True:
        worker.check_alive()
        figures = entries.aggregate(
            complete=Count("id", filter=Q(status=Entry.Status.COMPLETE)),
            failed=Count("id", filter=Q(status=Entry.Status.ERROR)),
            last=Max("completed_at"),
        )
        if figures["failed"]:
            raise BenchError(f"{figures['failed']} throughput entries failed; see {worker.log}")
        if figures["complete"] >= count:
            return figures["last"].timestamp() - queued_at
        if time.monotonic() > deadline:
            raise BenchError(
                f"only {figures['complete']} of {count} entries complete after {timeout:.0f}s"
            )
        time.sleep(0.05)


def worker_concurrency() -> int:
    from django.conf import settings

    return cast(int, settings.PROCRASTINATE_WORKER_DEFAULTS["concurrency"])


def measure(plan: Plan, web: Child, worker: Child) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``throughput`` and ``memory`` figures."""
    concurrency = worker_concurrency()
    ideal = plan.throughput_entries * critical_path_ms(plan.latencies) / 1000 / concurrency
    with (
        step(f"throughput: {plan.throughput_entries} entries queued at once"),
        MemorySampler({"web": web, "worker": worker}) as memory,
    ):
        queued_at = queue_at_once(plan.throughput_entries)
        seconds = drain(
            plan.throughput_entries, queued_at=queued_at, worker=worker, timeout=60 + 4 * ideal
        )
    throughput = {
        "entries": plan.throughput_entries,
        "concurrency": concurrency,
        "seconds": round(seconds, 2),
        "ideal_seconds": round(ideal, 2),
        "efficiency": round(ideal / seconds, 3),
        "entries_per_second": round(plan.throughput_entries / seconds, 2),
    }
    return throughput, {
        "web_rss_mb": memory.peak_mb("web"),
        "worker_rss_mb": memory.peak_mb("worker"),
    }
