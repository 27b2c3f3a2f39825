"""Deleting stories: one path for a learner deleting a story, a learner
leaving (their account goes with every story), and staff deleting either.

``adventures_delete`` runs in the caller's transaction: it locks the stories'
entries, deletes their queued jobs (the way dropped branches lose theirs,
``branches.entry_jobs_cancel``), keeps what they cost as ``DeletedSpend``
(the operator's figures, without the story or its learner), deletes the rows
(entries, sentences, choices, tokens, audio records, decisions, status events,
dropped branches; the learner's words stay, their ``entry`` link nulled) and,
once the transaction has committed, removes the audio files from storage. A
job already running finds its entry gone at its next step boundary
(``lifecycle.EntryGone``) and stops there, as a dropped branch's job does.

Files go only after the rows: a deletion rolled back leaves the story whole,
files included. A file whose removal fails is logged and left to
``storage_gc``, which removes any file no entry or digest references.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import OperationalError, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone
from psycopg.errors import DeadlockDetected

from langlearn.errors import NotFound

from ..models import Adventure, Audio, DeletedSpend, DroppedBranch, Entry
from .branches import entry_jobs_cancel
from .files import audio_files_remove_on_commit

if TYPE_CHECKING:
    from accounts.models import User

_SPEND = ("llm_input_tokens", "llm_output_tokens", "translated_characters", "audio_seconds")


# A deletion that PostgreSQL picks as a deadlock's victim (it locks the story's
# entries while a running job's step locks some of them) is tried again.
DEADLOCK_TRIES = 3


def adventure_delete(*, user: User, adventure_id: UUID) -> None:
    """The learner deletes one of their stories; ``NotFound`` when it is not
    theirs or is gone already. In a transaction of its own, tried again (up to
    ``DEADLOCK_TRIES`` times) when it loses a deadlock to a running job."""
    for attempt in range(1, DEADLOCK_TRIES + 1):
        try:
            with transaction.atomic():
                if not Adventure.objects.filter(id=adventure_id, user=user).exists():
                    raise NotFound("Adventure not found.")
                adventures_delete(adventure_ids=[adventure_id])
            return
        except OperationalError as exc:
            if attempt == DEADLOCK_TRIES or not isinstance(exc.__cause__, DeadlockDetected):
                raise


def adventures_delete(*, adventure_ids: Iterable[UUID]) -> int:
    """Delete the stories ``adventure_ids`` and everything under them (see the
    module docstring); return how many there were. In the caller's
    transaction, which must be one (``transaction.atomic``)."""
    ids = list(
        Adventure.objects.select_for_update()
        .filter(id__in=list(adventure_ids))
        .values_list("id", flat=True)
    )
    if not ids:
        return 0
    entries = list(
        Entry.objects.select_for_update(of=("self",))
        .filter(adventure_id__in=ids)
        .order_by("created_at", "id")  # one order for every locker: fewer deadlocks
    )
    if entries:
        entry_jobs_cancel(entries)
    _keep_spend(adventure_ids=ids)
    files = list(Audio.objects.filter(entry__adventure_id__in=ids).values_list("file", flat=True))
    Adventure.objects.filter(id__in=ids).delete()
    audio_files_remove_on_commit(files)
    return len(ids)


def _keep_spend(*, adventure_ids: list[UUID]) -> None:
    """Add what the stories cost (their entries, branches included, and the
    branches dropped before) to today's ``DeletedSpend``."""
    sums = {field: Sum(field) for field in _SPEND}
    entries = Entry.objects.filter(adventure_id__in=adventure_ids).aggregate(
        count=Count("id"), **sums
    )
    dropped = DroppedBranch.objects.filter(adventure_id__in=adventure_ids).aggregate(
        count=Count("id"), **sums
    )
    day = timezone.now().date()
    DeletedSpend.objects.get_or_create(day=day)
    DeletedSpend.objects.filter(day=day).update(
        adventures=F("adventures") + len(adventure_ids),
        entries=F("entries") + entries["count"] + dropped["count"],
        **{field: F(field) + (entries[field] or 0) + (dropped[field] or 0) for field in _SPEND},
    )
