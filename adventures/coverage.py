"""A passage's coverage for its learner (``langlearn.difficulty.coverage``),
measured when its tokens are recorded: the learner's statuses of its lemmas
come from their words (``vocabulary.selectors``, one query), the words they
have not marked are judged by their estimated vocabulary (``target``)."""

from __future__ import annotations

from uuid import UUID

from langlearn import levels
from langlearn.difficulty import coverage, vocabulary
from outbound.roles import AnnotatedToken
from vocabulary.selectors import lemma_words, placement_vocabulary


def target(*, user_id: UUID, language: str, level: str) -> tuple[int, str]:
    """The learner's estimated vocabulary and what it comes from: their
    placement check in the language, else the vocabulary of the level."""
    placed = placement_vocabulary(user_id, language)
    if placed is not None:
        return placed, "placement"
    return vocabulary.VOCABULARY[level], "level"


def of_tokens(
    tokens: list[AnnotatedToken], *, user_id: UUID, language: str, level: str
) -> coverage.Coverage:
    found = lemma_words(user=user_id, language=language, lemmas=[t.lemma for t in tokens])
    size, basis = target(user_id=user_id, language=language, level=level)
    return coverage.coverage(
        [levels.Word(t.text, t.lemma, t.pos, t.sentence, t.morph) for t in tokens],
        language=language,
        statuses={lemma: word.status for lemma, word in found.items()},
        vocabulary_size=size,
        basis=basis,
    )
