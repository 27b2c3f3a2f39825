"""Digests: one per (date, target language, level), kept so by the database."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from news.models import Digest
from news.services import digests_ensure

DAY = datetime.date(2025, 1, 6)


@pytest.mark.django_db
def test_two_runs_for_one_day_make_one_digest_per_language_and_level():
    first = digests_ensure(date=DAY, languages=["es", "fr"], levels=["A2", "B1"])
    again = digests_ensure(date=DAY, languages=["es"], levels=["A2", "B1", "C1"])

    assert Digest.objects.filter(date=DAY).count() == 5
    assert {d.status for d in first} == {Digest.Status.PENDING}
    assert [d.id for d in again[:2]] == [first[0].id, first[1].id]
    digests_ensure(date=DAY + datetime.timedelta(days=1), languages=["es"], levels=["A2"])
    assert Digest.objects.count() == 6


@pytest.mark.django_db
def test_the_constraint_not_a_check_refuses_a_second_digest():
    Digest.objects.create(date=DAY, target_language="es", level="A2")
    with pytest.raises(IntegrityError), transaction.atomic():
        Digest.objects.create(date=DAY, target_language="es", level="A2")


@pytest.mark.django_db(transaction=True)
def test_racing_runs_make_one_digest_each():
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            digests_ensure(date=DAY, languages=["es", "de"], levels=["A1", "A2"])
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert Digest.objects.filter(date=DAY).count() == 4


def test_a_digest_is_in_a_language_we_teach():
    with pytest.raises(ValidationError) as refused:
        Digest(date=DAY, target_language="ja", level="A2").full_clean()
    assert "We cannot teach 'ja' yet." in str(refused.value)
