"""The learner's words woven into the next passage (issue 13).

``adventures`` asks which words; ``vocabulary``, which sits above it, answers:
it registers its selector here when Django starts (``VocabularyConfig.ready``),
so the pipeline reads the learner's words without importing ``vocabulary``.
With nothing registered (or ``WEAVE_WORDS=0``) no words are woven.

After annotation, the words used are the requested lemmas some token of the
passage has as its lemma, whatever the case (``used_review_words``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from uuid import UUID

from django.conf import settings

# (user id, target language, at most how many) -> lemmas, due soonest first.
ReviewWordsSource = Callable[[UUID, str, int], list[str]]

_source: ReviewWordsSource | None = None


def register_review_words(source: ReviewWordsSource) -> None:
    global _source
    _source = source


def review_words(*, user_id: UUID, language: str) -> list[str]:
    """Up to ``WEAVE_WORDS`` lemmas the learner is learning in ``language``."""
    limit = settings.WEAVE_WORDS
    if _source is None or limit <= 0:
        return []
    return _source(user_id, language, limit)[:limit]


def used_review_words(requested: Iterable[str], lemmas: Iterable[str]) -> list[str]:
    """The requested lemmas (as requested, in their order) among ``lemmas``."""
    present = {lemma.lower() for lemma in lemmas}
    return [word for word in requested if word.lower() in present]


def used_share(requested: list[str], used: list[str]) -> float | None:
    """The share of the requested words the passage uses; None when none was requested."""
    return len(used) / len(requested) if requested else None
