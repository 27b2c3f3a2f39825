"""Use cases of a learner's adventure.

Each function is one use case: it checks the rules, writes the rows and defers
the pipeline job **in the same transaction**, so there is never an entry
without its job nor a job without its entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from procrastinate import exceptions as procrastinate_exceptions

from langlearn import tracing

from . import languages
from .errors import ConflictError, InvalidInput, NotFound
from .models import Adventure, CefrLevel, Choice, Decision, Entry

if TYPE_CHECKING:
    from accounts.models import User


def defer_entry_job(entry: Entry) -> int | None:
    """Queue the pipeline job for ``entry``; return the job id.

    Must run inside the transaction that wrote the entry's new state. The job's
    queueing lock (one queued job per entry) and lock (one running job per
    adventure, in order) are described in ``adventures.tasks``.
    """
    from .tasks import generate_adventure_entry, job_locks

    lock, queueing_lock = job_locks(entry)
    try:
        # A savepoint: a refused defer must not poison the caller's transaction.
        with transaction.atomic():
            job = generate_adventure_entry.configure(lock=lock, queueing_lock=queueing_lock)
            return job.defer(
                adventure_id=str(entry.adventure_id),
                entry_id=str(entry.id),
                user_id=str(entry.adventure.user_id),
                # Optional tracing (issue 5): {} unless OpenTelemetry is configured.
                **tracing.job_kwargs(),
            )
    except procrastinate_exceptions.AlreadyEnqueued:
        raise ConflictError("This entry is already queued.", code="already_queued") from None


def check_languages(*, target_language: str, native_language: str) -> None:
    errors: dict[str, list[str]] = {}
    if not languages.can_teach(target_language):
        codes = ", ".join(o.code for o in languages.target_languages())
        errors["target_language"] = [
            f"We cannot teach {target_language!r} yet. Choose one of: {codes}."
        ]
    if not languages.can_translate_to(native_language):
        codes = ", ".join(o.code for o in languages.native_languages())
        errors["native_language"] = [
            f"We cannot translate into {native_language!r}. Choose one of: {codes}."
        ]
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
    native = native_language or user.native_language
    check_languages(target_language=target_language, native_language=native)
    adventure = Adventure.objects.create(
        user=user,
        target_language=target_language,
        native_language=native,
        level=level,
        theme=theme,
    )
    entry = Entry.objects.create(
        adventure=adventure, position=1, is_final=settings.STORY_LENGTH <= 1
    )
    defer_entry_job(entry)
    return adventure


def _own_entry_for_update(*, user: User, adventure_id: UUID, entry_id: UUID) -> Entry:
    """The caller's entry, row-locked until the transaction ends; else NotFound."""
    try:
        return (
            Entry.objects.select_for_update(of=("self",))
            .select_related("adventure")
            .get(id=entry_id, adventure_id=adventure_id, adventure__user=user)
        )
    except Entry.DoesNotExist:
        raise NotFound("Entry not found.") from None


@transaction.atomic
def decision_record(*, user: User, adventure_id: UUID, entry_id: UUID, choice_id: UUID) -> Decision:
    """Record the learner's choice and queue the next entry.

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

    position = entry.position + 1
    next_entry = Entry.objects.create(
        adventure=entry.adventure,
        position=position,
        is_final=position >= settings.STORY_LENGTH,
    )
    try:
        with transaction.atomic():
            decision = Decision.objects.create(entry=entry, choice=choice, next_entry=next_entry)
    except IntegrityError:
        raise ConflictError(
            "A choice has already been made for this entry.", code="already_decided"
        ) from None
    defer_entry_job(next_entry)
    return decision


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
    entry_requeue(entry)
    return entry


def entry_requeue(entry: Entry) -> None:
    """Put a failed entry back to ``pending`` and defer its job (in a transaction)."""
    entry.status = Entry.Status.PENDING
    entry.error_message = ""
    entry.error_detail = ""
    entry.save(update_fields=["status", "error_message", "error_detail", "updated_at"])
    adventure = entry.adventure
    adventure.status = (
        Adventure.Status.AWAITING_FIRST_ENTRY if entry.position == 1 else Adventure.Status.ACTIVE
    )
    adventure.save(update_fields=["status", "updated_at"])
    defer_entry_job(entry)


# --- Staff and operator re-runs (admin action, ``retry_failed_entries``) -------


class RerunResult(NamedTuple):
    """What ``entries_rerun`` did: the ids it re-queued and why it skipped others."""

    requeued: list[UUID]
    skipped: dict[str, int]  # reason -> how many entries

    @property
    def skipped_count(self) -> int:
        return sum(self.skipped.values())


def entries_rerun(entry_ids: Iterable[UUID | str]) -> RerunResult:
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
                with transaction.atomic():
                    entry_requeue(entry)
            except ConflictError:
                skipped["already queued"] += 1
                continue
            requeued.append(entry.id)
    return RerunResult(requeued=requeued, skipped={k: v for k, v in skipped.items() if v})
