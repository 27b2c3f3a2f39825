"""Keeping a generated passage at the adventure's level.

The generate step measures each passage with ``langlearn.levels`` (the bands,
the level's band and what "clearly outside" means live there). The lemmas come
from the annotator itself (``factory.get_lemmatizer``: offline, about a
millisecond a passage, never drilled), so the fit recorded on the entry is
measured on the same lemmas and parts of speech the annotate step stores.

A passage clearly above its level is asked for once more, naming the words
that put it there (``GenerationRequest.off_level_words``). Bounded: one extra
call, tried once (a failure keeps the first passage), its tokens added to the
entry's cost whichever passage is kept; the better fit is kept (the first on a
tie). ``LEVEL_FIT_RETRY=false`` turns the re-ask off; the fit is recorded
either way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass

from django.conf import settings

from langlearn import levels
from outbound import factory
from outbound.errors import ProviderError
from outbound.roles import GeneratedPassage, GenerationRequest, StoryGenerator, passage_problem
from worker import ratelimits

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FittedPassage:
    passage: GeneratedPassage  # the one kept, its cost that of every call made
    fit: levels.LevelFit
    regenerated: bool  # whether the generator was asked once more


async def measure(passage: GeneratedPassage, request: GenerationRequest) -> levels.LevelFit:
    tokens = await factory.get_lemmatizer().annotate(
        passage.sentences, language=request.target_language
    )
    # The learner's own words to review are there on purpose: they are not
    # measured against the level (nor named as too rare when asking again).
    own = {word.lower() for word in request.review_words}
    words = [
        levels.Word(t.text, t.lemma, t.pos, t.sentence)
        for t in tokens
        if t.lemma.lower() not in own
    ]
    # The first lookup of a language loads its frequencies (a second or two).
    return await asyncio.to_thread(
        levels.measure, words, language=request.target_language, level=request.level
    )


async def fit_to_level(
    passage: GeneratedPassage, request: GenerationRequest, generator: StoryGenerator
) -> FittedPassage:
    fit = await measure(passage, request)
    if not (fit.clearly_off and settings.LEVEL_FIT_RETRY and generator.follows_level_hints):
        return FittedPassage(passage, fit, regenerated=False)
    again = dataclasses.replace(request, off_level_words=tuple(fit.above[: levels.MAX_NAMED_WORDS]))
    try:
        # One try, not retried; but within the generator's fleet-wide budget.
        await ratelimits.acquire("generate")
        second = await generator.generate(again)
    except ProviderError as exc:
        if exc.retry_after is not None:
            await ratelimits.pause_fleet("generate", exc.retry_after)
        logger.warning("asking again for an on-level passage failed, keeping the first: %s", exc)
        return FittedPassage(passage, fit, regenerated=True)
    input_tokens = passage.input_tokens + second.input_tokens
    output_tokens = passage.output_tokens + second.output_tokens
    second_fit = None
    if not passage_problem(second.sentences, second.choices, is_final=request.is_final):
        second_fit = await measure(second, request)
    if second_fit is not None and second_fit.better_than(fit):
        kept = dataclasses.replace(
            second,
            title=second.title or passage.title,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )
        return FittedPassage(kept, second_fit, regenerated=True)
    kept = dataclasses.replace(passage, input_tokens=input_tokens, output_tokens=output_tokens)
    return FittedPassage(kept, fit, regenerated=True)
