"""The entry lifecycle: every change of an entry's or an adventure's status.

An entry is ``pending`` (its job is queued) → ``generating`` → ``complete``,
or ``error`` once its job has failed for good; ``entry_queue`` puts an entry in
error back to ``pending``. An adventure's status is never set on its own: it is
derived from the entry that changed, always its newest (``adventure_status_after``),
in the transaction that changed the entry.

Every function here is a keyword-only use case under ``transaction.atomic``
that locks the entry's row first, so two transitions of one entry never
interleave. Queuing an entry defers its job in the same transaction: there is
never an entry without its job nor a job without its entry.

Every change of an entry's status also writes an ``EntryEvent`` and sends it
with ``pg_notify`` on ``EVENTS_CHANNEL``, in the same transaction
(``entry_status_changed``): listeners hear of it when (and only if) it commits
(``adventures.live`` streams them).
Branches (entries generated ahead of a decision) go through the same
functions; what is theirs alone (creating, adopting, dropping them) is in
``branches``, called from here where an entry completes, starts or fails.
"""

from __future__ import annotations

import contextlib
import json
from datetime import datetime
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
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


def defer_entry_job(entry: Entry, *, new: bool = False) -> int:
    """Queue the pipeline job for ``entry``; return the job id.

    Must run inside the transaction that wrote the entry's new state. The job's
    queueing lock (one queued job per entry) and lock (one running job per
    adventure, in order) are described in ``adventures.tasks``. A second job for
    an entry that is already queued is refused with ``ConflictError``, in a
    savepoint so that the caller's transaction can go on; ``new``: the entry
    was created in this transaction, so no job of it can be queued and the
    savepoint (two statements) is left out.
    """
    from ..tasks import generate_adventure_entry, job_locks, job_priority

    lock, queueing_lock = job_locks(entry)
    try:
        with contextlib.nullcontext() if new else transaction.atomic():
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


def adventure_status_after(entry: Entry) -> str:
    """The adventure's status once ``entry`` has changed.

    An entry whose status changes is always its adventure's newest (the one
    with the highest position): a later entry exists only after a decision on
    this one, a decision needs it ``complete``, and a complete entry never
    changes again. So the status follows from the entry alone: ``error``
    while it is in error; ``completed`` once the final entry is complete;
    ``awaiting_first_entry`` until the first entry is; ``active`` otherwise.
    """
    if entry.status == Entry.Status.ERROR:
        return Adventure.Status.ERROR
    if entry.status == Entry.Status.COMPLETE:
        return Adventure.Status.COMPLETED if entry.is_final else Adventure.Status.ACTIVE
    if entry.position == 1:
        return Adventure.Status.AWAITING_FIRST_ENTRY
    return Adventure.Status.ACTIVE


def event_payload(event: EntryEvent) -> dict:
    """What listeners receive for an event, and the events stream sends."""
    return {"event_id": event.id, **_payload(event)}


def _payload(event: EntryEvent) -> dict:
    return {
        "adventure_id": str(event.adventure_id),
        "id": str(event.entry_id),
        "position": event.position,
        "status": event.status,
        "adventure_status": event.adventure_status,
    }


# One round trip for what a status change writes besides the entry: lock the
# adventure's row, set its status if it changed, insert the event, NOTIFY it.
# The event's id is drawn after the lock is held (the INSERT reads the locked
# row), so one adventure's events commit in id order.
_STATUS_CHANGE_SQL = """
WITH adventure AS (
    SELECT id, status FROM adventures_adventure WHERE id = %(adventure_id)s FOR UPDATE
), synced AS (
    UPDATE adventures_adventure AS a
    SET status = %(adventure_status)s, updated_at = %(now)s
    FROM adventure
    WHERE a.id = adventure.id AND adventure.status <> %(adventure_status)s
), event AS (
    INSERT INTO adventures_entryevent
        (adventure_id, entry_id, position, status, adventure_status, created_at)
    SELECT id, %(entry_id)s, %(position)s, %(status)s, %(adventure_status)s, %(now)s
    FROM adventure
    RETURNING id
)
SELECT id, pg_notify(%(channel)s, (%(payload)s::jsonb || jsonb_build_object('event_id', id))::text)
FROM event
"""


def entry_status_changed(*, entry: Entry) -> EntryEvent | None:
    """After ``entry``'s new status is saved: derive its adventure's status
    (``adventure_status_after``), record the change as an ``EntryEvent`` and
    NOTIFY it on ``EVENTS_CHANNEL`` — one statement, in the caller's
    transaction. NOTIFY is transactional: a rolled-back change sends nothing.

    The adventure's row is locked first, so one adventure's events commit in
    the order of their ids (``Last-Event-ID`` resumes by id).

    A branch not adopted yet (no position) is not part of the learner's story:
    it changes nothing and sends nothing; adopting it (``branches.branches_resolve``)
    sends its status.
    """
    if entry.position is None:
        return None
    adventure = entry.adventure
    status = adventure_status_after(entry)
    event = EntryEvent(
        adventure_id=adventure.id,
        entry_id=entry.id,
        position=entry.position,
        status=entry.status,
        adventure_status=status,
        created_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            _STATUS_CHANGE_SQL,
            {
                "adventure_id": adventure.id,
                "adventure_status": status,
                "now": event.created_at,
                "entry_id": entry.id,
                "position": entry.position,
                "status": entry.status,
                "channel": EVENTS_CHANNEL,
                "payload": json.dumps(_payload(event)),
            },
        )
        [(event.id, _)] = cursor.fetchall()
    if adventure.status != status:
        adventure.status = status
        adventure.updated_at = event.created_at
    event._state.adding = False
    return event


PRUNE_BATCH = 5000


def entry_events_prune(*, before: datetime) -> int:
    """Delete the status events written before ``before`` that a later event
    of the same entry supersedes; return how many.

    Every entry keeps its latest event, so a stream opened without
    ``Last-Event-ID`` still replays each entry's current status; a client
    resuming from an event older than ``before`` misses only statuses that
    have changed since. In batches, each its own short transaction.
    """
    later = EntryEvent.objects.filter(entry_id=OuterRef("entry_id"), id__gt=OuterRef("id"))
    superseded = EntryEvent.objects.filter(created_at__lt=before).filter(Exists(later))
    deleted = 0
    while ids := list(superseded.values_list("id", flat=True)[:PRUNE_BATCH]):
        deleted += EntryEvent.objects.filter(id__in=ids).delete()[0]
    return deleted


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
    entry_status_changed(entry=entry)
    defer_entry_job(entry, new=True)
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
    entry_status_changed(entry=entry)
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
    entry_status_changed(entry=entry)
    return entry


@transaction.atomic
def entry_complete(*, entry_id: UUID) -> None:
    """Every step has finished: the entry is ``complete``; ``EntryGone`` when
    it was deleted meanwhile."""
    entry = (
        Entry.objects.select_for_update(of=("self",))
        .select_related("adventure")
        .filter(id=entry_id)
        .first()
    )
    if entry is None:
        raise EntryGone(f"entry {entry_id} was deleted while it was generated")
    if entry.dropped_at is not None:
        _branch_discard(branch=entry)  # a branch dropped while it was generated
        return
    entry.status = Entry.Status.COMPLETE
    entry.completed_at = timezone.now()
    entry.save(update_fields=["status", "completed_at", "updated_at"])
    entry_status_changed(entry=entry)
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
    entry_status_changed(entry=entry)
