"""Deferral shares the request's transaction; concurrent decisions are serialised."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from procrastinate.contrib.django.models import ProcrastinateJob
from rest_framework.test import APIClient

from adventures import services
from adventures.models import Adventure, Decision, Entry

from tests.support.api import client_for
from tests.support.database import truncate_jobs
from tests.support.factories import make_user
from tests.support.pipeline import run_pipeline


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_request_leaves_neither_entry_nor_job():
    truncate_jobs()
    user = make_user()
    deferred = []

    def request() -> None:
        with transaction.atomic():
            services.adventure_create(user=user, target_language="es")
            deferred.append(ProcrastinateJob.objects.count())  # inside the transaction
            raise Boom

    with pytest.raises(Boom):
        request()
    assert deferred == [1]
    assert not Adventure.objects.exists()
    assert not Entry.objects.exists()
    assert not ProcrastinateJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_decision_leaves_neither_next_entry_nor_job():
    truncate_jobs()
    user = make_user()
    adventure = services.adventure_create(user=user, target_language="it")
    entry = run_pipeline(adventure.entries.get())
    truncate_jobs()

    def request() -> None:
        with transaction.atomic():
            services.decision_record(
                user=user,
                adventure_id=adventure.id,
                entry_id=entry.id,
                choice_id=entry.choices.first().id,
            )
            raise Boom

    with pytest.raises(Boom):
        request()
    assert adventure.entries.count() == 1
    assert not Decision.objects.exists()
    assert not ProcrastinateJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_on_one_entry_exactly_one_wins() -> None:
    truncate_jobs()
    user = make_user()
    adventure = services.adventure_create(user=user, target_language="de")
    entry = run_pipeline(adventure.entries.get())
    truncate_jobs()
    choices = list(entry.choices.all())
    attempts = 8
    barrier = threading.Barrier(attempts)
    statuses: list[int] = []

    def decide(index: int) -> None:
        client: APIClient = client_for(user)
        barrier.wait()
        try:
            response = client.post(
                f"/api/adventures/{adventure.id}/decisions",
                {"entry_id": str(entry.id), "choice_id": str(choices[index % len(choices)].id)},
                format="json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201] + [409] * (attempts - 1)
    assert Decision.objects.filter(entry=entry).count() == 1
    assert adventure.entries.count() == 2
    assert ProcrastinateJob.objects.count() == 1
