"""A passage's coverage for its learner (``langlearn.difficulty.coverage``),
measured by the generate step's level fit: the learner's statuses of its
lemmas come from their words (``vocabulary.selectors``, one query), the words
they have not marked are judged by their estimated vocabulary (``target``,
read once with the generation request: the passage is asked for and measured
against the same estimate)."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Reader:
    """Whom a passage's coverage is measured for: a learner, and their
    estimated vocabulary in its language (``target``) and its basis."""

    user_id: UUID
    vocabulary_size: int
    basis: str  # "placement" or "level"


def of_tokens(tokens: list[AnnotatedToken], *, reader: Reader, language: str) -> coverage.Coverage:
    found = lemma_words(user=reader.user_id, language=language, lemmas=[t.lemma for t in tokens])
    return coverage.coverage(
        [levels.Word(t.text, t.lemma, t.pos, t.sentence, t.morph) for t in tokens],
        language=language,
        statuses={lemma: word.status for lemma, word in found.items()},
        vocabulary_size=reader.vocabulary_size,
        basis=reader.basis,
    )
