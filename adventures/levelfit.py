"""Keeping a generated passage at the adventure's level.

The generate step estimates each passage's difficulty with
``langlearn.difficulty`` (vocabulary, verb forms, sentences: an estimated CEFR
level and its reasons). The tokens come from the annotator itself
(``factory.get_lemmatizer``: offline, a few milliseconds a passage, never
drilled), so the estimate recorded on the entry is made on the lemmas, parts
of speech and morphology the annotate step stores. ``python -m bench level``
scores any text with this same code.

The generate step also measures the passage's coverage for its learner
(``adventures.coverage``: the statuses of their words, and for the rest the
estimated vocabulary the generation request states: their placement or the
level's vocabulary), recorded on the entry with the estimate.

Not counted against a passage: the learner's own words to review (there on
purpose) and the words of the adventure's theme. A passage is asked for once
more when it is *too hard* for its level (``Estimate.too_hard_for``: the
instruction names the words and verb forms that put it there,
``GenerationRequest.off_level_words`` and ``off_level_constructions``) or
*far outside the learner's coverage band* (``Coverage.new_words_beyond``:
more than twice the level's budget of new content words, which it names
too). Bounded: one extra call, tried once (a failure keeps the first
passage), its tokens added to the entry's cost whichever passage is kept; the
better passage is kept (fewer reasons to ask again, then the lower estimate,
then fewer new words; the first on a tie). ``LEVEL_FIT_RETRY=false`` turns the
re-ask off; the estimate and coverage are recorded either way. The old
measure, the share of content lemmas within the level's frequency band
(``langlearn.levels``), is still recorded as one figure.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from dataclasses import dataclass
from uuid import UUID

from django.conf import settings

from langlearn import difficulty, levels
from langlearn.difficulty.coverage import Coverage
from outbound import factory
from outbound.errors import ProviderError
from outbound.roles import (
    AnnotatedToken,
    GeneratedPassage,
    GenerationRequest,
    StoryGenerator,
    passage_problem,
)
from worker import ratelimits
from worker.orm import db

from . import coverage
from .models import Entry

logger = logging.getLogger(__name__)


TOO_HARD = Entry.ReaskReason.LEVEL
TOO_MANY_NEW_WORDS = Entry.ReaskReason.NEW_WORDS


@dataclass(frozen=True)
class Measured:
    level: str  # the level it was measured against
    estimate: difficulty.Estimate
    fit: levels.LevelFit  # the share of content lemmas within the level's band
    coverage: Coverage | None = None  # for its learner, when measured for one
    # The new words past the learner's coverage band (own words left out).
    new_words_beyond: tuple[str, ...] = ()

    @property
    def too_hard(self) -> bool:
        return self.estimate.too_hard_for(self.level)

    @property
    def reasons_to_ask_again(self) -> tuple[str, ...]:
        return tuple(
            reason
            for reason, found in (
                (TOO_HARD, self.too_hard),
                (TOO_MANY_NEW_WORDS, self.new_words_beyond),
            )
            if found
        )

    def better_than(self, other: Measured) -> bool:
        def key(measured: Measured) -> tuple:
            new_words = len(measured.coverage.new_words) if measured.coverage else 0
            return (len(measured.reasons_to_ask_again), measured.estimate.value, new_words)

        return key(self) < key(other)


@dataclass(frozen=True)
class FittedPassage:
    passage: GeneratedPassage  # the one kept, its cost that of every call made
    measured: Measured
    regenerated: bool  # whether the generator was asked once more
    reasked_for: str = ""  # why (``Entry.ReaskReason``), when regenerated


def own_words(request: GenerationRequest) -> set[str]:
    """Words the passage uses on purpose: the learner's review words and the
    words of the theme (``faro`` in a story about a lighthouse, ``faro``)."""
    theme = {word for word in re.findall(r"\w+", request.theme.lower()) if len(word) > 2}
    return {word.lower() for word in request.review_words} | theme


def measure_tokens(
    tokens: list[AnnotatedToken],
    *,
    language: str,
    level: str,
    exclude: set[str],
    covered: Coverage | None = None,
) -> Measured:
    """The estimate (and the band share) of an annotated passage, with its
    coverage for a learner when there is one."""
    words = [levels.Word(t.text, t.lemma, t.pos, t.sentence, t.morph) for t in tokens]
    kept = [word for word in words if word.lemma.lower() not in exclude]
    return Measured(
        level=level,
        estimate=difficulty.estimate(words, language=language, exclude=exclude),
        fit=levels.measure(kept, language=language, level=level),
        coverage=covered,
        new_words_beyond=tuple(covered.new_words_beyond(level, exclude=exclude)) if covered else (),
    )


async def measure_sentences(
    sentences: list[str],
    *,
    language: str,
    level: str,
    exclude: set[str],
    reader: coverage.Reader | None = None,
) -> Measured:
    tokens = await factory.get_lemmatizer().annotate(sentences, language=language)
    covered = None
    if reader is not None:
        covered = await db(coverage.of_tokens)(tokens, reader=reader, language=language)
    # The first lookup of a language loads its frequencies (a second or two).
    return await asyncio.to_thread(
        measure_tokens, tokens, language=language, level=level, exclude=exclude, covered=covered
    )


async def measure(
    passage: GeneratedPassage, request: GenerationRequest, *, learner: UUID | None = None
) -> Measured:
    """The passage's estimate for the request's level; with ``learner``
    (their id), its coverage for them too."""
    reader = None
    if learner is not None:
        # Judged by the vocabulary the passage was asked for (``known_words``:
        # ``selectors.generation_request`` reads the learner's ``coverage.target``).
        assert request.known_words is not None
        reader = coverage.Reader(learner, request.known_words, request.known_words_basis)
    return await measure_sentences(
        passage.sentences,
        language=request.target_language,
        level=request.level,
        exclude=own_words(request),
        reader=reader,
    )


def _reason(reasons: tuple[str, ...]) -> str:
    return Entry.ReaskReason.BOTH if len(reasons) > 1 else reasons[0]


async def fit_to_level(
    passage: GeneratedPassage,
    request: GenerationRequest,
    generator: StoryGenerator,
    *,
    learner: UUID | None = None,
) -> FittedPassage:
    measured = await measure(passage, request, learner=learner)
    reasons = measured.reasons_to_ask_again
    if not (reasons and settings.LEVEL_FIT_RETRY and generator.follows_level_hints):
        return FittedPassage(passage, measured, regenerated=False)
    estimate = measured.estimate
    named = dict.fromkeys((*estimate.words_above(request.level), *measured.new_words_beyond))
    again = dataclasses.replace(
        request,
        off_level_words=tuple(named)[: difficulty.model.MAX_NAMED_WORDS],
        off_level_constructions=tuple(
            c["name"] for c in estimate.constructions_above(request.level)
        ),
    )
    try:
        # One try, not retried; but within the generator's fleet-wide budget.
        await ratelimits.acquire("generate")
        second = await generator.generate(again)
    except ProviderError as exc:
        if exc.retry_after is not None:
            await ratelimits.pause_fleet("generate", exc.retry_after)
        logger.warning("asking again for an on-level passage failed, keeping the first: %s", exc)
        return FittedPassage(passage, measured, regenerated=True, reasked_for=_reason(reasons))
    input_tokens = passage.input_tokens + second.input_tokens
    output_tokens = passage.output_tokens + second.output_tokens
    second_measured = None
    if not passage_problem(second.sentences, second.choices, is_final=request.is_final):
        second_measured = await measure(second, request, learner=learner)
    if second_measured is not None and second_measured.better_than(measured):
        kept = dataclasses.replace(
            second,
            title=second.title or passage.title,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )
        return FittedPassage(kept, second_measured, regenerated=True, reasked_for=_reason(reasons))
    kept = dataclasses.replace(passage, input_tokens=input_tokens, output_tokens=output_tokens)
    return FittedPassage(kept, measured, regenerated=True, reasked_for=_reason(reasons))
