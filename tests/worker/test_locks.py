"""Advisory locks (``worker.locks``) as the pipelines take them: one run per
entry (``adventures.pipeline.entry_lock``) or digest at a time, within a worker
process and across processes (so the providers are never paid twice)."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from asgiref.sync import async_to_sync
from procrastinate.contrib.django.utils import connector_params

from adventures.pipeline import entry_lock
from worker.locks import uuid_key

pytestmark = pytest.mark.django_db(transaction=True)


async def _nested(entry_id: uuid.UUID, other_id: uuid.UUID) -> tuple[bool, bool, bool, bool]:
    async with (
        entry_lock(entry_id) as first,
        entry_lock(entry_id) as again,
        entry_lock(other_id) as other,
    ):
        pass
    async with entry_lock(entry_id) as after:
        pass
    return first, again, other, after


def test_a_second_run_of_an_entry_in_the_same_process_is_refused_until_the_first_ends():
    entry_id, other_id = uuid.uuid4(), uuid.uuid4()
    first, again, other, after = async_to_sync(_nested)(entry_id, other_id)
    assert first
    assert not again  # the same entry, while its first run holds it
    assert other  # another entry is not held up
    assert after  # released when the first run ended


async def _try(entry_id: uuid.UUID) -> bool:
    async with entry_lock(entry_id) as acquired:
        return acquired


def test_a_run_in_another_process_holds_the_entry_until_its_session_ends():
    entry_id = uuid.uuid4()
    # Another worker's lock session, holding the entry.
    with psycopg.connect(**connector_params(), autocommit=True) as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(%s)", [uuid_key(entry_id)])
        assert not async_to_sync(_try)(entry_id)
    # That worker died (its connection closed): the lock went with it.
    assert async_to_sync(_try)(entry_id)
