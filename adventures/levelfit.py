"""Keeping a generated passage at the adventure's level.

The generate step estimates each passage's difficulty with
``langlearn.difficulty`` (vocabulary, verb forms, sentences: an estimated CEFR
level and its reasons). The tokens come from the annotator itself
(``factory.get_lemmatizer``: offline, a few milliseconds a passage, never
drilled), so the estimate recorded on the entry is made on the lemmas, parts
of speech and morphology the annotate step stores. ``python -m bench level``
scores any text with this same code.

Not counted as vocabulary: the learner's own words to review (there on
purpose) and the words of the adventure's theme. A passage *too hard* for its
level (``Estimate.too_hard_for``) is asked for once more, naming the words and
verb forms that put it there (``GenerationRequest.off_level_words`` and
``off_level_constructions``). Bounded: one extra call, tried once (a failure
keeps the first passage), its tokens added to the entry's cost whichever
passage is kept; the easier passage is kept (the first on a tie).
``LEVEL_FIT_RETRY=false`` turns the re-ask off; the estimate is recorded
either way. The old measure, the share of content lemmas within the level's
frequency band (``langlearn.levels``), is still recorded as one figure.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from dataclasses import dataclass

from django.conf import settings

from langlearn import difficulty, levels
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

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Measured:
    level: str  # the level it was measured against
    estimate: difficulty.Estimate
    fit: levels.LevelFit  # the share of content lemmas within the level's band

    @property
    def too_hard(self) -> bool:
        return self.estimate.too_hard_for(self.level)

    def easier_than(self, other: Measured) -> bool:
        return self.estimate.value < other.estimate.value


@dataclass(frozen=True)
class FittedPassage:
    passage: GeneratedPassage  # the one kept, its cost that of every call made
    measured: Measured
    regenerated: bool  # whether the generator was asked once more


def own_words(request: GenerationRequest) -> set[str]:
    """Words the passage uses on purpose: the learner's review words and the
    words of the theme (``faro`` in a story about a lighthouse, ``faro``)."""
    theme = {word for word in re.findall(r"\w+", request.theme.lower()) if len(word) > 2}
    return {word.lower() for word in request.review_words} | theme


def measure_tokens(
    tokens: list[AnnotatedToken], *, language: str, level: str, exclude: set[str]
) -> Measured:
    """The estimate (and the band share) of an annotated passage."""
    words = [levels.Word(t.text, t.lemma, t.pos, t.sentence, t.morph) for t in tokens]
    kept = [word for word in words if word.lemma.lower() not in exclude]
    return Measured(
        level=level,
        estimate=difficulty.estimate(words, language=language, exclude=exclude),
        fit=levels.measure(kept, language=language, level=level),
    )


async def measure_sentences(
    sentences: list[str], *, language: str, level: str, exclude: set[str]
) -> Measured:
    tokens = await factory.get_lemmatizer().annotate(sentences, language=language)
    # The first lookup of a language loads its frequencies (a second or two).
    return await asyncio.to_thread(
        measure_tokens, tokens, language=language, level=level, exclude=exclude
    )


async def measure(passage: GeneratedPassage, request: GenerationRequest) -> Measured:
    return await measure_sentences(
        passage.sentences,
        language=request.target_language,
        level=request.level,
        exclude=own_words(request),
    )


async def fit_to_level(
    passage: GeneratedPassage, request: GenerationRequest, generator: StoryGenerator
) -> FittedPassage:
    measured = await measure(passage, request)
    if not (measured.too_hard and settings.LEVEL_FIT_RETRY and generator.follows_level_hints):
        return FittedPassage(passage, measured, regenerated=False)
    estimate = measured.estimate
    again = dataclasses.replace(
        request,
        off_level_words=tuple(
            estimate.words_above(request.level)[: difficulty.model.MAX_NAMED_WORDS]
        ),
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
        return FittedPassage(passage, measured, regenerated=True)
    input_tokens = passage.input_tokens + second.input_tokens
    output_tokens = passage.output_tokens + second.output_tokens
    second_measured = None
    if not passage_problem(second.sentences, second.choices, is_final=request.is_final):
        second_measured = await measure(second, request)
    if second_measured is not None and second_measured.easier_than(measured):
        kept = dataclasses.replace(
            second,
            title=second.title or passage.title,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )
        return FittedPassage(kept, second_measured, regenerated=True)
    kept = dataclasses.replace(passage, input_tokens=input_tokens, output_tokens=output_tokens)
    return FittedPassage(kept, measured, regenerated=True)
