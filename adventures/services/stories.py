"""What learners and staff do with stories: start one, choose, retry, re-run.

Each function checks the rules and changes state through ``lifecycle``, so
the rows and the pipeline job they need are written in one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction

from langlearn import languages
from langlearn.errors import ConflictError, InvalidInput, NotFound
from langlearn.levels import CefrLevel

from ..models import Adventure, Choice, Decision, Entry
from .branches import branches_resolve
from .lifecycle import entry_create, entry_queue

if TYPE_CHECKING:
    from accounts.models import User


def check_languages(*, target_language: str, native_language: str) -> None:
    """Refuse a pair of languages we cannot serve; reads the registry only."""
    errors: dict[str, list[str]] = {}
    if problem := languages.target_language_problem(target_language):
        errors["target_language"] = [problem]
    if problem := languages.native_language_problem(native_language):
        errors["native_language"] = [problem]
    if not errors and target_language == native_language:
        errors["native_language"] = ["The native language must differ from the language you learn."]
    if errors:
        raise InvalidInput(errors)


@transaction.atomic
def adventure_create(
    *,
    user: User,
    target_language: str,
    native_language: str | None = None,
    level: str = CefrLevel.A2,
    theme: str = "",
) -> Adventure:
    """A new adventure with its first entry queued."""
    native = native_language or user.native_language
    check_languages(target_language=target_language, native_language=native)
    adventure = Adventure.objects.create(
        user=user,
        target_language=target_language,
        native_language=native,
        level=level,
        theme=theme,
    )
    entry_create(adventure=adventure, position=1, is_final=settings.STORY_LENGTH <= 1)
    return adventure


def _own_entry_for_update(*, user: User, adventure_id: UUID, entry_id: UUID) -> Entry:
    """The caller's entry, row-locked until the transaction ends; else NotFound."""
    try:
        return (
            Entry.objects.select_for_update(of=("self",))
            .select_related("adventure")
            # A branch not adopted yet is not the learner's to see.
            .get(
                id=entry_id,
                adventure_id=adventure_id,
                adventure__user=user,
                position__isnull=False,
            )
        )
    except Entry.DoesNotExist:
        raise NotFound("Entry not found.") from None


@transaction.atomic
def decision_record(*, user: User, adventure_id: UUID, entry_id: UUID, choice_id: UUID) -> Decision:
    """Record the learner's choice and queue the next entry, or adopt the one
    generated ahead for that choice (``branches``).

    The entry's row lock serialises concurrent decisions on it: the first one
    wins, the others find the decision and get a 409. The one-to-one constraint
    on ``Decision.entry`` is the backstop.
    """
    entry = _own_entry_for_update(user=user, adventure_id=adventure_id, entry_id=entry_id)
    if Decision.objects.filter(entry=entry).exists():
        raise ConflictError(
            "A choice has already been made for this entry.", code="already_decided"
        )
    if entry.status != Entry.Status.COMPLETE:
        raise ConflictError(
            f"This entry is {entry.status}; you can choose once it is complete.",
            code="entry_not_complete",
        )
    if entry.is_final:
        raise ConflictError("The story has ended.", code="story_completed")
    try:
        choice = Choice.objects.get(id=choice_id, entry=entry)
    except Choice.DoesNotExist:
        raise InvalidInput({"choice_id": ["This choice does not belong to the entry."]}) from None

    assert entry.position is not None  # a branch is never the caller's entry
    position = entry.position + 1
    # The branch generated ahead for this choice, if there is one to adopt;
    # the others are dropped (see ``branches``).
    next_entry = branches_resolve(entry=entry, choice=choice, position=position)
    if next_entry is None:
        next_entry = entry_create(
            adventure=entry.adventure,
            position=position,
            is_final=position >= settings.STORY_LENGTH,
        )
    try:
        # No savepoint: a violation here undoes the whole decision.
        return Decision.objects.create(entry=entry, choice=choice, next_entry=next_entry)
    except IntegrityError:
        raise ConflictError(
            "A choice has already been made for this entry.", code="already_decided"
        ) from None


@transaction.atomic
def entry_retry(*, user: User, adventure_id: UUID, entry_id: UUID) -> Entry:
    """Queue an entry in ``error`` again; the pipeline resumes after its last
    finished step."""
    entry = _own_entry_for_update(user=user, adventure_id=adventure_id, entry_id=entry_id)
    if entry.status != Entry.Status.ERROR:
        raise ConflictError(
            f"Only an entry in error can be retried; this one is {entry.status}.",
            code="entry_not_in_error",
        )
    entry_queue(entry=entry)
    return entry


# --- Staff and operator re-runs (admin action, ``retry_failed_entries``) -------


class RerunResult(NamedTuple):
    """What ``entries_rerun`` did: the ids it re-queued and why it skipped others."""

    requeued: list[UUID]
    skipped: dict[str, int]  # reason -> how many entries

    @property
    def skipped_count(self) -> int:
        return sum(self.skipped.values())


def entries_rerun(*, entry_ids: Iterable[UUID | str]) -> RerunResult:
    """Re-run the pipeline for those of ``entry_ids`` that are in ``error``.

    Each entry is re-queued in its own transaction, under its row lock, so one
    refused entry does not undo the others and a concurrent retry by the learner
    cannot queue the same entry twice. Entries are taken in story order, so the
    jobs of one adventure (which share its lock) run in order. Entries in any
    other state are skipped and counted by reason.
    """
    ids = list(dict.fromkeys(UUID(str(entry_id)) for entry_id in entry_ids))
    order = Entry.objects.filter(id__in=ids).order_by("adventure_id", "position")
    ordered = list(order.values_list("id", flat=True))
    requeued: list[UUID] = []
    skipped: Counter[str] = Counter()
    skipped["not found"] += len(ids) - len(ordered)
    for entry_id in ordered:
        with transaction.atomic():
            entry = (
                Entry.objects.select_for_update(of=("self",))
                .select_related("adventure")
                .filter(id=entry_id)
                .first()
            )
            if entry is None:
                skipped["not found"] += 1
                continue
            if entry.status != Entry.Status.ERROR:
                skipped[f"not in error ({entry.status})"] += 1
                continue
            try:
                entry_queue(entry=entry)
            except ConflictError:
                skipped["already queued"] += 1
                continue
            requeued.append(entry.id)
    return RerunResult(requeued=requeued, skipped={k: v for k, v in skipped.items() if v})
