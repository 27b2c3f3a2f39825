"""Reads of a learner's words, always scoped to the learner who asks.

Lemmas are matched as the database lowers them (``lower(lemma)``, the key of
the unique constraint) on both sides, so Python and PostgreSQL never disagree
on what "the same lemma" means.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, NamedTuple
from uuid import UUID

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Lower
from django.utils import timezone

from adventures.models import Token
from langlearn.errors import NotFound

from .models import Card, Placement, Word

if TYPE_CHECKING:
    from accounts.models import User


def word_list(
    *,
    user: User,
    language: str | None = None,
    status: str | None = None,
    statuses: Collection[str] | None = None,
    due: bool | None = None,
) -> QuerySet[Word]:
    """``statuses``: the words with any of these; ``due``: True, the words due
    for review now (``learning``, card due); False, all the others."""
    words = Word.objects.filter(user=user)
    if language is not None:
        words = words.filter(language=language)
    if status is not None:
        words = words.filter(status=status)
    if statuses is not None:
        words = words.filter(status__in=statuses)
    if due is not None:
        is_due = Q(status=Word.Status.LEARNING, card__due__lte=timezone.now())
        words = words.filter(is_due) if due else words.exclude(is_due)
    return words.order_by("-created_at", "-id")


def reviews_due(*, user: User, language: str, limit: int) -> QuerySet[Card]:
    """The learner's cards due now, of words being learnt, due soonest first.

    Known and ignored words keep their cards but are never due."""
    return (
        Card.objects.filter(
            word__user=user,
            word__language=language,
            word__status=Word.Status.LEARNING,
            due__lte=timezone.now(),
        )
        .select_related("word")
        .order_by("due", "id")[:limit]
    )


def words_to_weave(user_id: UUID, language: str, limit: int) -> list[str]:
    """Up to ``limit`` lemmas the learner is learning in ``language``, their
    cards due soonest first (overdue ones before those due later): the words
    the next passage is asked to use (``adventures.weaving``)."""
    return list(
        Word.objects.filter(user_id=user_id, language=language, status=Word.Status.LEARNING)
        .order_by(F("card__due").asc(nulls_last=True), "created_at", "id")
        .values_list("lemma", flat=True)[:limit]
    )


def word_get(*, user: User, word_id: UUID) -> Word:
    try:
        return Word.objects.get(user=user, id=word_id)
    except Word.DoesNotExist:
        raise NotFound("Word not found.") from None


def words_matching(*, user: User, language: str, lemma: str) -> QuerySet[Word]:
    """The learner's word for ``lemma`` in ``language``, whatever its case (0 or 1 row)."""
    return (
        Word.objects.filter(user=user, language=language)
        .alias(key=Lower("lemma"))
        .filter(key=Lower(Value(lemma)))
    )


class TokenWord(NamedTuple):
    word_id: UUID
    status: str


def entry_token_words(*, user: User, entry_id: UUID, language: str) -> dict[int, TokenWord]:
    """``{token id: (word id, status)}`` for the tokens of an entry whose lemma
    the learner has saved; tokens missing from it are ``new``.

    One query whatever the number of tokens or of saved words: each token
    looks its word up through the unique index (user, language, lower(lemma)).
    """
    word = (
        Word.objects.filter(user=user, language=language)
        .alias(key=Lower("lemma"))
        .filter(key=Lower(OuterRef("lemma")))
        .order_by()
    )
    rows = (
        Token.objects.filter(entry_id=entry_id)
        .annotate(
            word_id=Subquery(word.values("id")[:1]),
            word_status=Subquery(word.values("status")[:1]),
        )
        .filter(word_id__isnull=False)
        .order_by()
        .values_list("id", "word_id", "word_status")
    )
    return {token_id: TokenWord(word_id, status) for token_id, word_id, status in rows}


def lemma_words(*, user: User | UUID, language: str, lemmas: list[str]) -> dict[str, TokenWord]:
    """``{lower(lemma): (word id, status)}`` for the lemmas the learner (or the
    learner's id) has saved (the news digest's tokens, a passage's coverage);
    one query whatever the number of lemmas."""
    keys = sorted({lemma.lower() for lemma in lemmas})
    rows = (
        Word.objects.filter(user=user, language=language)
        .annotate(key=Lower("lemma"))
        .filter(key__in=keys)
        .order_by()
        .values_list("key", "id", "status")
    )
    return {key: TokenWord(word_id, status) for key, word_id, status in rows}


def placement_get(*, user: User, language: str) -> Placement | None:
    """The learner's current placement result in ``language``, if any."""
    return Placement.objects.filter(user=user, language=language).first()


def placement_vocabulary(user: User | UUID, language: str) -> int | None:
    """The learner's estimated vocabulary size in ``language`` (lemmas, from
    their placement check), or None when they have not taken it.

    What seeds "which words count as known" for a learner with few words of
    their own: the lemmas ranked within this size
    (``langlearn.difficulty.vocabulary.rank``), the ranking the test's bands
    were drawn by. ``user`` is a learner or their id."""
    return (
        Placement.objects.filter(user=user, language=language)
        .values_list("vocabulary_size", flat=True)
        .first()
    )
