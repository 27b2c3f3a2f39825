"""The entry lifecycle: every change of an entry's or an adventure's status.

An entry is ``pending`` (its job is queued) → ``generating`` → ``complete``,
or ``error`` once its job has failed for good; ``entry_queue`` puts an entry in
error back to ``pending``. An adventure's status is never set on its own: it is
derived from its newest entry by ``adventure_status_sync``, in the transaction
that changed the entry.

Every function here is a keyword-only use case under ``transaction.atomic``
that locks the entry's row first, so two transitions of one entry never
interleave. Queuing an entry defers its job in the same transaction: there is
never an entry without its job nor a job without its entry.

Every change of an entry's status also writes an ``EntryEvent`` and sends it
with ``pg_notify`` on ``EVENTS_CHANNEL``, in the same transaction: listeners
hear of it when (and only if) it commits (``adventures.live`` streams them).
Branches (entries generated ahead of a decision) go through the same
functions; what is theirs alone (creating, adopting, dropping them) is in
``branches``, called from here where an entry completes, starts or fails.
"""

from __future__ import annotations

import json
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone
from procrastinate import exceptions as procrastinate_exceptions

from langlearn import tracing
from langlearn.errors import ConflictError

from ..models import Adventure, Entry, EntryEvent

LEARNER_ERROR_MESSAGE = "We could not write this part of the story. Please try again in a moment."
ERROR_DETAIL_LIMIT = 4000
# The PostgreSQL channel of entry status events (payload: ``event_payload``).
EVENTS_CHANNEL = "adventure_events"


class EntryGone(Exception):
    """The entry was deleted, or does not belong to the adventure and user."""


def defer_entry_job(entry: Entry) -> int:
    """Queue the pipeline job for ``entry``; return the job id.

    Must run inside the transaction that wrote the entry's new state. The job's
    queueing lock (one queued job per entry) and lock (one running job per
    adventure, in order) are described in ``adventures.tasks``. A second job for
    an entry that is already queued is refused with ``ConflictError``.
    """
    from ..tasks import generate_adventure_entry, job_locks, job_priority

    lock, queueing_lock = job_locks(entry)
    try:
        # A savepoint: a refused defer must not poison the caller's transaction.
        with transaction.atomic():
            job = generate_adventure_entry.configure(
                lock=lock, queueing_lock=queueing_lock, priority=job_priority(entry)
            )
            return job.defer(
                adventure_id=str(entry.adventure_id),
                entry_id=str(entry.id),
                user_id=str(entry.adventure.user_id),
                # Optional tracing: {} unless OpenTelemetry is configured.
                **tracing.job_kwargs(),
            )
    except procrastinate_exceptions.AlreadyEnqueued:
        raise ConflictError("This entry is already queued.", code="already_queued") from None


def adventure_status_sync(*, adventure: Adventure) -> None:
    """Derive the adventure's status from its newest entry and save it if it changed.

    ``error`` while the newest entry is in error; ``completed`` once the final
    entry is complete; ``awaiting_first_entry`` until the first entry is;
    ``active`` otherwise. Call it in the transaction that changed an entry.
    """
    newest = (
        Entry.objects.filter(adventure_id=adventure.id, position__isnull=False)
        .order_by("-position")
        .values("position", "status", "is_final")
        .first()
    )
    if newest is None:
        status = Adventure.Status.AWAITING_FIRST_ENTRY
    elif newest["status"] == Entry.Status.ERROR:
        status = Adventure.Status.ERROR
    elif newest["status"] == Entry.Status.COMPLETE:
        status = Adventure.Status.COMPLETED if newest["is_final"] else Adventure.Status.ACTIVE
    elif newest["position"] == 1:
        status = Adventure.Status.AWAITING_FIRST_ENTRY
    else:
        status = Adventure.Status.ACTIVE
    if adventure.status != status:
        adventure.status = status
        adventure.save(update_fields=["status", "updated_at"])


def event_payload(event: EntryEvent) -> dict:
    """What listeners receive for an event, and the events stream sends."""
    return {
        "event_id": event.id,
        "adventure_id": str(event.adventure_id),
        "id": str(event.entry_id),
        "position": event.position,
        "status": event.status,
        "adventure_status": event.adventure_status,
    }


def entry_event_record(*, entry: Entry, adventure: Adventure) -> EntryEvent | None:
    """Record the entry's new status as an event and NOTIFY it on commit.

    Call it in the transaction that changed the entry, after
    ``adventure_status_sync``. The adventure's row is locked first, so one
    adventure's events commit in the order of their ids (``Last-Event-ID``
    resumes by id). NOTIFY is transactional: a rolled-back change sends nothing.

    A branch not adopted yet (no position) is not part of the learner's story:
    it sends nothing; adopting it (``branches.branch_adopt``) sends its status.
    """
    if entry.position is None:
        return None
    Adventure.objects.select_for_update().filter(id=adventure.id).values_list("id").first()
    event = EntryEvent.objects.create(
        adventure_id=adventure.id,
        entry_id=entry.id,
        position=entry.position,
        status=entry.status,
        adventure_status=adventure.status,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_notify(%s, %s)", [EVENTS_CHANNEL, json.dumps(event_payload(event))]
        )
    return event


def _branches_create(*, entry: Entry) -> None:
    from .branches import branches_create  # branches builds on this module

    branches_create(entry=entry)


def _branch_discard(*, branch: Entry) -> None:
    from .branches import branch_discard

    branch_discard(branch=branch)


@transaction.atomic
def entry_create(*, adventure: Adventure, position: int, is_final: bool) -> Entry:
    """A new ``pending`` entry at ``position``, with its job queued."""
    entry = Entry.objects.create(adventure=adventure, position=position, is_final=is_final)
    adventure_status_sync(adventure=adventure)
    entry_event_record(entry=entry, adventure=adventure)
    defer_entry_job(entry)
    return entry


@transaction.atomic
def entry_queue(*, entry: Entry) -> None:
    """Put an entry in ``error`` back to ``pending`` and queue its job again.

    The caller holds the entry's row lock and has checked that it is in error;
    the pipeline resumes after the entry's last finished step.
    """
    entry.status = Entry.Status.PENDING
    entry.error_message = entry.error_detail = ""
    entry.save(update_fields=["status", "error_message", "error_detail", "updated_at"])
    adventure_status_sync(adventure=entry.adventure)
    entry_event_record(entry=entry, adventure=entry.adventure)
    defer_entry_job(entry)


@transaction.atomic
def entry_start(*, adventure_id: UUID, entry_id: UUID, user_id: UUID) -> Entry | None:
    """Mark the entry ``generating`` for a pipeline run; None when it is already
    complete (a duplicate job has nothing to do). ``EntryGone`` when it is not
    the adventure's and the user's any more."""
    try:
        entry = (
            Entry.objects.select_for_update(of=("self",))
            .select_related("adventure")
            .get(id=entry_id, adventure_id=adventure_id, adventure__user_id=user_id)
        )
    except Entry.DoesNotExist:
        raise EntryGone(f"entry {entry_id} of adventure {adventure_id} does not exist") from None
    if entry.status == Entry.Status.COMPLETE:
        return None
    if entry.dropped_at is not None:
        _branch_discard(branch=entry)  # a branch dropped while its job waited
        return None
    entry.status = Entry.Status.GENERATING
    entry.error_message = entry.error_detail = ""
    entry.save(update_fields=["status", "error_message", "error_detail", "updated_at"])
    adventure_status_sync(adventure=entry.adventure)
    entry_event_record(entry=entry, adventure=entry.adventure)
    return entry


@transaction.atomic
def entry_complete(*, entry_id: UUID) -> None:
    """Every step has finished: the entry is ``complete``."""
    entry = (
        Entry.objects.select_for_update(of=("self",)).select_related("adventure").get(id=entry_id)
    )
    if entry.dropped_at is not None:
        _branch_discard(branch=entry)  # a branch dropped while it was generated
        return
    entry.status = Entry.Status.COMPLETE
    entry.completed_at = timezone.now()
    entry.save(update_fields=["status", "completed_at", "updated_at"])
    adventure_status_sync(adventure=entry.adventure)
    entry_event_record(entry=entry, adventure=entry.adventure)
    _branches_create(entry=entry)


@transaction.atomic
def entry_fail(*, entry_id: UUID, detail: str) -> None:
    """The entry's job failed for good: ``error``, with a message the learner
    reads and ``detail`` for staff. A complete or deleted entry is left alone."""
    entry = (
        Entry.objects.select_for_update(of=("self",))
        .select_related("adventure")
        .filter(id=entry_id)
        .first()
    )
    if entry is None or entry.status == Entry.Status.COMPLETE:
        return
    if entry.dropped_at is not None:
        _branch_discard(branch=entry)
        return
    entry.status = Entry.Status.ERROR
    entry.error_message = LEARNER_ERROR_MESSAGE
    entry.error_detail = detail[:ERROR_DETAIL_LIMIT]
    entry.save(update_fields=["status", "error_message", "error_detail", "updated_at"])
    adventure_status_sync(adventure=entry.adventure)
    entry_event_record(entry=entry, adventure=entry.adventure)
