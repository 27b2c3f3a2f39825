"""The benchmark's ``floors`` section (``bench/floors.py``): its pieces, run in
this process on the test database, do the pipeline's whole work, in order."""

from __future__ import annotations

import asyncio
import time
from uuid import UUID

import pytest
from django.db import connections
from rest_framework.test import APIClient

from accounts.models import User
from adventures import services
from adventures.models import Adventure, Decision, Entry
from adventures.steps import db
from bench import floors
from bench.runner import Plan

from tests.support.api import client_for
from tests.support.database import truncate_jobs


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

    def decide(adventure_id: UUID, entry_id: UUID, choice_id: UUID) -> tuple[UUID, float]:
        sent = time.perf_counter()
        try:
            response = clients[adventure_id].post(
                f"/api/adventures/{adventure_id}/decisions",
                {"entry_id": str(entry_id), "choice_id": str(choice_id)},
                format="json",
            )
        finally:
            connections.close_all()  # this thread's, which measure() runs it in
        assert response.status_code == 201, response.content
        return UUID(response.json()["next_entry"]["id"]), (time.perf_counter() - sent) * 1000

    try:
        figures = floors.measure(adventures, decide, pickup_ms=1.5, warmup=1)
    finally:
        asyncio.run(db(connections.close_all)())  # the ORM thread's own connection

    assert figures["samples"] == 2
    critical = figures["critical_ms_p50"]
    assert list(critical) == list(floors.CRITICAL)
    assert critical["pickup"] == 1.5  # given, from the dispatch measure
    assert all(ms > 0 for ms in critical.values())
    assert figures["critical_sum_ms"] == pytest.approx(sum(critical.values()), abs=0.01)
    assert list(figures["overlapped_ms_p50"]) == list(floors.OVERLAPPED)
    assert all(ms > 0 for ms in figures["overlapped_ms_p50"].values())
    # Every decision led to an entry the pieces generated whole.
    for adventure_id, _, _ in adventures:
        decision = Decision.objects.get(entry__adventure_id=adventure_id)
        entry = Entry.objects.get(id=decision.next_entry_id)
        assert entry.status == Entry.Status.COMPLETE
        assert entry.sentences.exclude(translation="").exists()
        assert entry.tokens.exists()
        assert entry.audio.duration_ms > 0
        assert entry.level_fit is not None  # measured by the level-fit piece
        assert Adventure.objects.get(id=adventure_id).status == Adventure.Status.ACTIVE
    truncate_jobs()


def test_the_floors_section_runs_alone_and_quick_runs_fewer():
    only = Plan.make(
        quick=False, database="langlearn_bench", latencies={"generate": 800}, only="floors"
    )
    quick = Plan.make(quick=True, database="langlearn_bench", latencies={"generate": 800})
    assert only.only == "floors"
    assert quick.floors_samples < only.floors_samples
