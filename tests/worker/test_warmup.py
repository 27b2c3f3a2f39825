"""Warm workers: a worker loads the language data of ``WORKER_WARM_LANGUAGES``
as it starts, in the background, within its memory budget, and a job of
another language does not wait for it."""

from __future__ import annotations

import psutil
import pytest

from adventures.models import Entry
from adventures.services import adventure_create

from tests.support.factories import make_user
from tests.support.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

EVERY_LANGUAGE = "es,fr,de,it,pt"
RSS_BUDGET_MB = 600


def test_a_worker_with_every_language_loaded_stays_within_its_memory_budget(start_worker):
    worker = start_worker(WORKER_WARM_LANGUAGES=EVERY_LANGUAGE)
    wait_for(
        lambda: "language data loaded for es, fr, de, it, pt in" in worker.output(),
        timeout=240,
        what="the warm-up",
    )
    rss_mb = psutil.Process(worker.process.pid).memory_info().rss / 2**20
    print(f"worker RSS with five languages loaded: {rss_mb:.0f} MB")
    assert rss_mb <= RSS_BUDGET_MB
    # Warm, it serves a passage in each language.
    user = make_user()
    entry_ids = [
        adventure_create(user=user, target_language=code).entries.get().id
        for code in EVERY_LANGUAGE.split(",")
    ]
    done = Entry.objects.filter(id__in=entry_ids, status="complete")
    wait_for(lambda: done.count() == 5, timeout=60, what="a passage in each language")
    assert psutil.Process(worker.process.pid).memory_info().rss / 2**20 <= RSS_BUDGET_MB


def test_a_job_of_another_language_does_not_wait_for_the_warm_up(start_worker):
    worker = start_worker(WORKER_WARM_LANGUAGES="fr,de,it,pt")
    wait_for(lambda: "Starting worker on" in worker.output(), timeout=60, what="the worker")
    entry = adventure_create(user=make_user(), target_language="es").entries.get()
    wait_for(
        lambda: Entry.objects.filter(id=entry.id, status="complete").exists(),
        timeout=120,
        what="the Spanish passage",
    )
    # The Spanish passage loaded Spanish itself, while the others still loaded.
    assert "language data loaded for" not in worker.output()
    assert "language data loaded: es" not in worker.output()
    wait_for(
        lambda: "language data loaded for fr, de, it, pt in" in worker.output(),
        timeout=240,
        what="the warm-up",
    )
