"""Housekeeping: superseded status events and old finished jobs are pruned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from adventures.models import EntryEvent
from adventures.services import entry_events_prune
from adventures.services.lifecycle import entry_status_changed
from adventures.tasks import prune_history, settle_branches

from tests.support.factories import make_adventure, make_entry, make_user
from tests.support.processes import wait_for


def changes(entry, *statuses: str, days_ago: int) -> list[int]:
    """``entry`` moved through ``statuses`` ``days_ago`` days ago; the events' ids."""
    ids = []
    for status in statuses:
        entry.status = status
        entry.save(update_fields=["status"])
        event = entry_status_changed(entry=entry)
        assert event is not None
        ids.append(event.id)
    EntryEvent.objects.filter(id__in=ids).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    return ids


@pytest.mark.django_db
def test_old_superseded_events_go_and_every_entries_latest_stays():
    adventure = make_adventure(make_user())
    old = make_entry(adventure, position=1)
    old_pending, old_generating, old_complete = changes(
        old, "pending", "generating", "complete", days_ago=30
    )
    recent = make_entry(adventure, position=2)
    recent_ids = changes(recent, "pending", "generating", days_ago=0)
    # An entry whose every event is old keeps its latest one.
    quiet = make_entry(make_adventure(make_user("bo")), position=1)
    [*_, quiet_latest] = changes(quiet, "pending", "error", days_ago=30)

    deleted = entry_events_prune(before=timezone.now() - timedelta(days=7))

    assert deleted == 3  # old's pending and generating, quiet's pending
    left = set(EntryEvent.objects.values_list("id", flat=True))
    assert left == {old_complete, *recent_ids, quiet_latest}
    assert old_pending not in left
    assert old_generating not in left
    assert entry_events_prune(before=timezone.now() - timedelta(days=7)) == 0  # idempotent


def age_job(job_id: int, *, status: str, days: int) -> None:
    """A job that reached ``status`` ``days`` days ago (its events all that old)."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET status = %s WHERE id = %s", [status, job_id])
        cursor.execute(
            "UPDATE procrastinate_events SET at = now() - make_interval(days => %s) "
            "WHERE job_id = %s",
            [days, job_id],
        )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_worker_prunes_history_on_its_maintenance_queue(start_worker, settings):
    adventure = make_adventure(make_user())
    entry = make_entry(adventure, position=1)
    [superseded, *_] = changes(entry, "pending", "generating", "complete", days_ago=30)
    # Jobs on a queue this worker does not serve: they stay as they are made.
    elsewhere = settle_branches.configure(queue="elsewhere")
    old_success, recent_success, old_failure = (
        elsewhere.defer(entry_id=str(entry.id)) for _ in range(3)
    )
    age_job(old_success, status="succeeded", days=settings.JOBS_RETENTION_DAYS + 1)
    age_job(recent_success, status="succeeded", days=1)
    age_job(old_failure, status="failed", days=settings.JOBS_RETENTION_DAYS + 1)

    worker = start_worker(WORKER_QUEUES="maintenance")
    pruning = prune_history.defer(timestamp=int(timezone.now().timestamp()))

    def pruned() -> bool:
        return ProcrastinateJob.objects.filter(id=pruning, status="succeeded").exists()

    try:
        wait_for(pruned, timeout=60, what="the pruning job to succeed")
    except BaseException:
        print(worker.output())
        raise
    assert not EntryEvent.objects.filter(id=superseded).exists()
    assert EntryEvent.objects.filter(entry_id=entry.id, status="complete").exists()
    jobs = set(ProcrastinateJob.objects.values_list("id", flat=True))
    assert old_success not in jobs
    assert {recent_success, old_failure, pruning} <= jobs
    assert worker.output().count("Registering task adventures.prune_history") == 1
