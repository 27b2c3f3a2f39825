"""The ``workers`` section: how a worker recovers and how it starts.

``rescue``: ``entries`` queued at once for a worker that runs them all at once
and is killed (SIGKILL) while voicing every one of them; a new worker is
started on the default timeouts. ``seconds_after_new_worker``: from starting
it until the last of those entries completed (the deadline is 35 s);
``seconds_after_kill`` likewise from the kill; ``llm_calls_per_entry`` (the
stubs' call log: must be 1.00), ``voiced_sentences_per_sentence`` (must be 1.00).

``warm_start``: a worker serving every language we teach, started alone:
``ready_seconds`` until it listens for jobs, ``warm_seconds`` until its log
says all languages are loaded, ``rss_mb`` then (budget 600 MB); then one
passage per language, one at a time, stub latencies zero, ``first_passage_ms``
from the commit to its ``completed_at``. ``cold``: the same with
``WORKER_WARM_LANGUAGES`` empty (each language loaded by its first passage).
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ..database import clear_adventures_and_jobs
from ..fleet import Fleet
from ..plan import Plan, step
from ..processes import BenchError, Child, wait_until
from .throughput import drain, queue_at_once

RESCUE_DEADLINE_SECONDS = 35
EVERY_LANGUAGE = ("es", "fr", "de", "it", "pt")


def calls(log: Path) -> Counter[str]:
    return Counter(log.read_text().split()) if log.exists() else Counter()


def rescue(plan: Plan, fleet: Fleet, workdir: Path) -> dict[str, Any]:
    from django.db.models import Count

    from adventures.models import Entry

    count = plan.rescue_entries
    log = workdir / "rescue-calls.log"
    with step(f"workers: rescue, {count} entries of a killed worker"):
        doomed = fleet.start(
            "worker",
            WORKER_CONCURRENCY=str(count),
            STUB_LATENCY_MS="voice=600000",
            STUB_CALL_LOG=str(log),
        )
        queue_at_once(count, theme="rescue")
        entries = Entry.objects.filter(adventure__theme="rescue")
        held = entries.filter(translated_at__isnull=False, annotated_at__isnull=False)

        def all_held() -> bool:
            doomed.check_alive()
            return held.count() == count

        wait_until(all_held, timeout=120, what=f"{count} entries to reach the voice")
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait()
        killed_at = time.time()
        started_at = time.time()
        rescuer = fleet.start("worker", STUB_CALL_LOG=str(log))
        ready = time.time() - started_at
        seconds = drain(count, queued_at=started_at, worker=rescuer, timeout=180, theme="rescue")
        fleet.stop(doomed, rescuer)
    counted = calls(log)
    sentences = entries.aggregate(n=Count("sentences"))["n"]
    figures = {
        "entries": count,
        "seconds_after_new_worker": round(seconds, 2),
        "seconds_after_kill": round(seconds + started_at - killed_at, 2),
        "new_worker_ready_seconds": round(ready, 2),
        "deadline_seconds": RESCUE_DEADLINE_SECONDS,
        "llm_calls_per_entry": round(counted["generate"] / count, 2),
        "voiced_sentences_per_sentence": round(counted["voice"] / sentences, 2),
    }
    clear_adventures_and_jobs()
    return figures


def first_passages(worker: Child) -> dict[str, float]:
    """Milliseconds from the commit to ``completed_at`` of one passage per
    language, one at a time."""
    from accounts.models import User
    from adventures import services

    user = User.objects.order_by("username").first()
    assert user is not None
    latencies = {}
    for language in EVERY_LANGUAGE:
        adventure = services.adventure_create(
            user=user, target_language=language, native_language="en", theme=f"first-{language}"
        )
        queued_at = time.time()
        seconds = drain(1, queued_at=queued_at, worker=worker, timeout=120, theme=adventure.theme)
        latencies[language] = round(seconds * 1000, 1)
    return latencies


def start(fleet: Fleet, warm: str) -> tuple[Child, float]:
    started_at = time.monotonic()
    worker = fleet.start("worker", WORKER_WARM_LANGUAGES=warm)
    return worker, time.monotonic() - started_at


def warm_start(fleet: Fleet) -> dict[str, Any]:
    every = ",".join(EVERY_LANGUAGE)
    with step("workers: a warm worker's start, memory and first passages"):
        worker, ready = start(fleet, every)
        started = time.monotonic() - ready
        line = f"language data loaded for {', '.join(EVERY_LANGUAGE)} in"

        def warmed() -> bool:
            worker.check_alive()
            return line in worker.log.read_text(errors="replace")

        wait_until(warmed, timeout=300, what="the warm-up")
        warm_seconds = time.monotonic() - started
        rss_warm = worker.rss_bytes()
        warm = first_passages(worker)
        rss_after = worker.rss_bytes()
        fleet.stop(worker)
    clear_adventures_and_jobs()
    with step("workers: a cold worker's first passages"):
        cold_worker, cold_ready = start(fleet, "")
        rss_cold = cold_worker.rss_bytes()
        cold = first_passages(cold_worker)
        rss_cold_after = cold_worker.rss_bytes()
        fleet.stop(cold_worker)
    clear_adventures_and_jobs()
    if rss_warm == 0:
        raise BenchError("could not read the warm worker's memory")
    return {
        "languages": list(EVERY_LANGUAGE),
        "ready_seconds": round(ready, 2),
        "warm_seconds": round(warm_seconds, 2),
        "rss_mb": round(rss_warm / 2**20, 1),
        "rss_mb_after_first_passages": round(rss_after / 2**20, 1),
        "rss_budget_mb": 600,
        "first_passage_ms": warm,
        "cold": {
            "ready_seconds": round(cold_ready, 2),
            "rss_mb_at_start": round(rss_cold / 2**20, 1),
            "rss_mb_after_first_passages": round(rss_cold_after / 2**20, 1),
            "first_passage_ms": cold,
        },
    }


def measure(plan: Plan, fleet: Fleet, workdir: Path) -> dict[str, Any]:
    return {"rescue": rescue(plan, fleet, workdir), "warm_start": warm_start(fleet)}
