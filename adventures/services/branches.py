"""Branches: the entry after each choice, generated before the learner decides.

With ``PREGENERATE_BRANCHES`` on, an entry that completes (and is not the
story's last) gets one *branch* per choice: an ``Entry`` with
``branch_choice`` set and no ``position``, whose pipeline job has no adventure
lock (the branches run side by side) and a lower priority than entries a
learner waits for. Learner-facing reads only ever see entries with a position,
so a branch is invisible until adopted.

The decision on the entry (``stories.decision_record``, under the entry's row
lock; the learner waits for it, so it does as little as it can) then:

``branches_resolve`` does both of these:

- **adopts** the branch of the chosen choice: it takes the
  adventure's next position and becomes the decision's ``next_entry`` — often
  already ``complete``. If its job is still queued it is queued again at the
  learner's priority, behind the adventure's lock; if it is running it goes on.
- **drops** the other branches: marks them ``dropped_at``
  and queues ``settle_branches`` (``branches_settle``), which deletes their
  queued jobs and discards them, and queues the adopted entry's own branches
  if it was complete. A branch whose job is running is discarded by that job
  at its next step boundary (``entry_start``, after generation,
  ``entry_complete`` or ``entry_fail``), so the step in flight finishes and is
  paid for once. Either way what the branch cost is kept as a
  ``DroppedBranch`` (speculative spend), and no row or queued job is left.

A branch in error, or none (pre-generation off, the learner's daily cap
reached), leaves the decision to create the next entry as without branches.
The (adventure, position) unique constraint and the one-to-one ``branch_choice``
and ``Decision.next_entry`` make a branch adoptable once.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from langlearn import metrics

from ..models import Audio, Choice, Decision, DroppedBranch, Entry
from .files import audio_files_remove_on_commit
from .lifecycle import defer_entry_job, entry_status_changed

FINISHED = (Entry.Status.COMPLETE, Entry.Status.ERROR)


def start_of_day() -> datetime:
    """Midnight UTC today: the daily cap counts branches started since then."""
    return datetime.combine(timezone.now().date(), time.min, tzinfo=UTC)


def branches_started_today(*, user_id: UUID) -> int:
    """Branches the learner's stories started today, adopted, live or dropped."""
    since = start_of_day()
    live = Entry.objects.filter(
        adventure__user_id=user_id, branch_choice__isnull=False, created_at__gte=since
    ).count()
    dropped = DroppedBranch.objects.filter(
        adventure__user_id=user_id, branch_created_at__gte=since
    ).count()
    return live + dropped


def branches_create(*, entry: Entry) -> list[Entry]:
    """One branch per choice of ``entry``, each with its job queued, as far as
    the learner's daily cap allows (choices in order). Runs in the transaction
    that completed ``entry`` (or adopted it complete), with its row locked.

    Nothing for a branch (branches of branches would multiply the spend), the
    final entry, an entry already decided, or with pre-generation off.
    """
    if not settings.PREGENERATE_BRANCHES or entry.is_branch or entry.is_final:
        return []
    if Decision.objects.filter(entry=entry).exists():
        return []
    choices = list(Choice.objects.filter(entry=entry, branch__isnull=True).order_by("index"))
    if not choices:
        return []
    user_id = entry.adventure.user_id
    # The learner's row lock serialises the cap check of their stories.
    list(get_user_model().objects.select_for_update().filter(id=user_id).values_list("id"))
    allowed = settings.PREGENERATE_DAILY_CAP - branches_started_today(user_id=user_id)
    assert entry.position is not None
    is_final = entry.position + 1 >= settings.STORY_LENGTH
    branches = []
    for choice in choices[: max(allowed, 0)]:
        branch = Entry.objects.create(
            adventure=entry.adventure, position=None, branch_choice=choice, is_final=is_final
        )
        defer_entry_job(branch, new=True)
        branches.append(branch)
    return branches


def entry_jobs_cancel(entries: list[Entry]) -> set[UUID]:
    """Delete the entries' jobs that no worker has taken; the ids of the
    entries that had one. A job a worker takes meanwhile is not cancelled
    (it is ``doing`` by then): it stops at its next step boundary, finding
    its entry dropped or gone. (Dropped branches here; deleted stories in
    ``deletion``.)"""
    locks = {f"entry:{entry.id}": entry.id for entry in entries}
    queued = ProcrastinateJob.objects.filter(queueing_lock__in=locks, status="todo")
    cancelled = set()
    for job_id, lock in queued.values_list("id", "queueing_lock"):
        if app.job_manager.cancel_job_by_id(job_id, delete_job=True):
            cancelled.add(locks[str(lock)])
    return cancelled


def _running(entries: list[Entry]) -> set[UUID]:
    """The ids of those entries whose job a worker runs."""
    locks = {f"entry:{entry.id}": entry.id for entry in entries}
    running = ProcrastinateJob.objects.filter(
        queueing_lock__in=locks, status__in=("doing", "aborting")
    ).values_list("queueing_lock", flat=True)
    return {locks[str(lock)] for lock in running}


def branches_resolve(*, entry: Entry, choice: Choice, position: int) -> Entry | None:
    """At the decision on ``entry`` for ``choice``: adopt the branch generated
    for that choice as the adventure's entry at ``position`` and drop the
    others; return the adopted one, or None when there is none to adopt (none
    made, in error, or dropped) and the caller creates the entry as usual.

    Called by ``decision_record`` under the decided entry's row lock; one
    query when the entry has no branches (pre-generation off).
    """
    branches = list(
        Entry.objects.select_for_update(of=("self",))
        .select_related("adventure")
        .filter(branch_choice__entry=entry, position__isnull=True, dropped_at__isnull=True)
    )
    adopted = next(
        (
            branch
            for branch in branches
            if branch.branch_choice_id == choice.id and branch.status != Entry.Status.ERROR
        ),
        None,
    )
    if adopted is not None:
        _adopt(adopted, position=position)
    dropped = [branch.id for branch in branches if branch is not adopted]
    _count_branches(adopted=int(adopted is not None), dropped=len(dropped))
    if dropped:
        Entry.objects.filter(id__in=dropped).update(dropped_at=timezone.now())
    adopted_complete = adopted is not None and adopted.status == Entry.Status.COMPLETE
    if dropped or (adopted_complete and settings.PREGENERATE_BRANCHES):
        # The rest after the learner has the answer (see ``branches_settle``);
        # a dropped branch whose job starts first is discarded by that job.
        from ..tasks import settle_branches

        settle_branches.defer(entry_id=str(entry.id))
    return adopted


def _count_branches(*, adopted: int, dropped: int) -> None:
    """Count them (``langlearn.metrics``) once the decision commits."""

    def count() -> None:
        if adopted:
            metrics.BRANCHES.labels("adopted").inc(adopted)
        if dropped:
            metrics.BRANCHES.labels("dropped").inc(dropped)

    if adopted or dropped:
        transaction.on_commit(count)


def _adopt(branch: Entry, *, position: int) -> None:
    branch.position = position
    branch.save(update_fields=["position", "updated_at"])
    # The learner's stream hears of the entry now, with its status so far.
    entry_status_changed(entry=branch)
    # (A complete one gets its own branches from ``branches_settle``.)
    if branch.status == Entry.Status.PENDING and entry_jobs_cancel([branch]):
        # Still queued behind other branches: the learner waits for it now.
        defer_entry_job(branch)


@transaction.atomic
def branches_settle(*, entry_id: UUID) -> None:
    """After the decision on ``entry_id``: discard its dropped branches (their
    queued jobs deleted; a branch whose job is running is left to that job,
    which discards it at its next step boundary), and queue the branches of
    the adopted entry if it was complete. Idempotent: a second run finds
    nothing to do.
    """
    dropped = list(
        Entry.objects.select_for_update(of=("self",))
        .filter(branch_choice__entry_id=entry_id, position__isnull=True, dropped_at__isnull=False)
        .order_by("id")
    )
    if dropped:
        entry_jobs_cancel(dropped)
        unfinished = [b for b in dropped if b.status not in FINISHED]
        running = _running(unfinished) if unfinished else set()
        branches_discard(branches=[b for b in dropped if b.id not in running])
    decision = Decision.objects.filter(entry_id=entry_id).first()
    if decision is None:
        return
    adopted = (
        Entry.objects.select_for_update(of=("self",))
        .select_related("adventure")
        .get(id=decision.next_entry_id)
    )
    if adopted.status == Entry.Status.COMPLETE:
        branches_create(entry=adopted)


def branch_discard(*, branch: Entry) -> None:
    """Record what ``branch`` cost as speculative spend and delete it (and
    everything under it; its audio file once the transaction commits). The
    caller holds its row lock."""
    branches_discard(branches=[branch])


def branches_discard(*, branches: list[Entry]) -> None:
    """``branch_discard`` for many at once."""
    if not branches:
        return
    DroppedBranch.objects.bulk_create(
        DroppedBranch(
            adventure_id=branch.adventure_id,
            entry_id=branch.id,
            status=branch.status,
            branch_created_at=branch.created_at,
            llm_input_tokens=branch.llm_input_tokens,
            llm_output_tokens=branch.llm_output_tokens,
            translated_characters=branch.translated_characters,
            audio_seconds=branch.audio_seconds,
        )
        for branch in branches
    )
    ids = [branch.id for branch in branches]
    files = list(Audio.objects.filter(entry_id__in=ids).values_list("file", flat=True))
    Entry.objects.filter(id__in=ids).delete()
    # A branch voiced before it was dropped: its file goes too.
    audio_files_remove_on_commit(files)


@transaction.atomic
def branch_dropped(*, entry_id: UUID) -> bool:
    """For a branch's pipeline between steps: whether it was dropped meanwhile
    (then it is discarded here, and the run stops)."""
    branch = Entry.objects.select_for_update(of=("self",)).filter(id=entry_id).first()
    if branch is None:
        return True
    if branch.dropped_at is None:
        return False
    branch_discard(branch=branch)
    return True
