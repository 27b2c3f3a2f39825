"""Read-only queries, always scoped to the learner who asks."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Prefetch, QuerySet

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
