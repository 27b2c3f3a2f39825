"""Read-only queries, always scoped to the learner who asks."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Count, Prefetch, QuerySet, Sum

from .errors import NotFound
from .models import Adventure, Entry

if TYPE_CHECKING:
    from accounts.models import User


def _entry_summaries() -> Prefetch:
    return Prefetch(
        "entries",
        queryset=Entry.objects.only("id", "position", "status", "adventure_id"),
    )


def adventure_list(*, user: User) -> QuerySet[Adventure]:
    return (
        Adventure.objects.filter(user=user)
        .prefetch_related(_entry_summaries())
        .order_by("-created_at", "-id")
    )


def adventure_get(*, user: User, adventure_id: UUID) -> Adventure:
    try:
        return adventure_list(user=user).get(id=adventure_id)
    except Adventure.DoesNotExist:
        raise NotFound("Adventure not found.") from None


def entry_get(*, user: User, adventure_id: UUID, entry_id: UUID) -> Entry:
    try:
        return (
            Entry.objects.filter(adventure__user=user, adventure_id=adventure_id)
            .select_related("audio", "decision")
            .prefetch_related("sentences", "choices", "tokens")
            .get(id=entry_id)
        )
    except Entry.DoesNotExist:
        raise NotFound("Entry not found.") from None


@dataclass(frozen=True)
class AdventureCosts:
    """What the providers billed for an adventure, summed over its entries."""

    entries: int
    llm_input_tokens: int
    llm_output_tokens: int
    translated_characters: int
    audio_seconds: Decimal


def adventure_costs(adventure: Adventure) -> AdventureCosts:
    totals = Entry.objects.filter(adventure=adventure).aggregate(
        entries=Count("id"),
        llm_input_tokens=Sum("llm_input_tokens"),
        llm_output_tokens=Sum("llm_output_tokens"),
        translated_characters=Sum("translated_characters"),
        audio_seconds=Sum("audio_seconds"),
    )
    return AdventureCosts(
        entries=totals["entries"],
        llm_input_tokens=totals["llm_input_tokens"] or 0,
        llm_output_tokens=totals["llm_output_tokens"] or 0,
        translated_characters=totals["translated_characters"] or 0,
        audio_seconds=totals["audio_seconds"] or Decimal(0),
    )
