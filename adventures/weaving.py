"""The learner's words woven into the next passage.

The words come from ``vocabulary`` (the words the learner is learning, due
soonest first): one of the two places where ``adventures`` reads the learner's
words, both named in the import contract (``pyproject.toml``). With
``WEAVE_WORDS=0`` no words are woven.

After annotation, the words used are the requested lemmas some token of the
passage has as its lemma, whatever the case (``used_review_words``).
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.conf import settings

from vocabulary.selectors import words_to_weave


def review_words(*, user_id: UUID, language: str) -> list[str]:
    """Up to ``WEAVE_WORDS`` lemmas the learner is learning in ``language``."""
    limit = settings.WEAVE_WORDS
    if limit <= 0:
        return []
    return words_to_weave(user_id, language, limit)


def used_review_words(requested: Iterable[str], lemmas: Iterable[str]) -> list[str]:
    """The requested lemmas (as requested, in their order) among ``lemmas``."""
    present = {lemma.lower() for lemma in lemmas}
    return [word for word in requested if word.lower() in present]


def used_share(requested: list[str], used: list[str]) -> float | None:
    """The share of the requested words the passage uses; None when none was requested."""
    return len(used) / len(requested) if requested else None
