"""The benchmark's ``floors`` section (``bench/sections/floors.py``): decisions
sent, and the next entries' pipelines run through their public entry point in
this process on the test database; the pieces come from what the entries
recorded, add up to the whole wait, and the entries are complete."""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from rest_framework.test import APIClient

from accounts.models import User
from adventures import services
from adventures.models import Adventure, Decision, Entry
from bench.plan import Plan
from bench.sections import floors

from tests.support.api import client_for
from tests.support.database import truncate_jobs


def _decider(clients: dict[UUID, APIClient]) -> floors.Decide:
    def decide(adventure_id: UUID, entry_id: UUID) -> tuple[UUID, float, float]:
        client = clients[adventure_id]
        try:
            entry = client.get(f"/api/adventures/{adventure_id}/entries/{entry_id}").json()
            sent = time.time()
            response = client.post(
                f"/api/adventures/{adventure_id}/decisions",
                {"entry_id": str(entry_id), "choice_id": entry["choices"][0]["id"]},
                format="json",
            )
            answered = time.time()
        finally:
            connections.close_all()  # this thread's, which measure() runs it in
        assert response.status_code == 201, response.content
        return UUID(response.json()["next_entry"]["id"]), sent, answered

    return decide


@pytest.mark.django_db(transaction=True)
def test_each_piece_is_timed_and_together_they_complete_the_entry():
    truncate_jobs()
    clients: dict[UUID, APIClient] = {}
    adventures = []
    for name in ("ana", "ben", "cleo"):
        user = User.objects.create_user(username=name, password=None)
        adventure = services.adventure_create(
            user=user, target_language="es", native_language="en", theme="the sea"
        )
        clients[adventure.id] = client_for(user)
        adventures.append((adventure.id, adventure.entries.get().id, user.id))

    started = time.time()
    try:
        figures = floors.measure(adventures, _decider(clients), pickup_ms=1.5, warmup=1)
    finally:
        # The pipeline's ORM thread (thread-sensitive, shared) keeps its own connection.
        asyncio.run(sync_to_async(connections.close_all, thread_sensitive=True)())
    elapsed_ms = (time.time() - started) * 1000

    assert figures["samples"] == 2
    critical = figures["critical_ms_p50"]
    assert list(critical) == list(floors.CRITICAL)
    assert critical["pickup"] == 1.5  # given, from the dispatch measure
    assert all(ms > 0 for ms in critical.values())
    assert figures["critical_sum_ms"] == pytest.approx(sum(critical.values()), abs=0.01)
    # The pieces follow one another: together, no more than the whole run took.
    assert figures["critical_sum_ms"] - critical["pickup"] < elapsed_ms
    overlapped = figures["overlapped_ms_p50"]
    assert list(overlapped) == list(floors.OVERLAPPED)
    assert all(ms > 0 for ms in overlapped.values())
    assert max(overlapped.values()) <= critical["steps"] + 0.01  # the slowest is the wait
    # Every decision led to an entry the pipeline generated whole.
    for adventure_id, _, _ in adventures:
        decision = Decision.objects.get(entry__adventure_id=adventure_id)
        entry = Entry.objects.get(id=decision.next_entry_id)
        assert entry.status == Entry.Status.COMPLETE
        assert entry.sentences.exclude(translation="").exists()
        assert entry.tokens.exists()
        assert entry.audio.duration_ms > 0
        assert entry.level_fit is not None  # the level fit ran, inside ``generation``
        assert Adventure.objects.get(id=adventure_id).status == Adventure.Status.ACTIVE
    truncate_jobs()


def test_the_floors_section_runs_alone_and_quick_runs_fewer():
    only = Plan.make(
        quick=False, database="langlearn_bench", latencies={"generate": 800}, only="floors"
    )
    quick = Plan.make(quick=True, database="langlearn_bench", latencies={"generate": 800})
    assert only.only == "floors"
    assert quick.floors_samples < only.floors_samples
