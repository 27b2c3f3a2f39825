"""The entry pipeline's four steps. Each asks one provider role (through
``worker.providers``) and records what it found through ``services``, in a
transaction of its own, reached through ``worker.orm.db``.
"""

from __future__ import annotations

import asyncio

from langlearn import metrics
from outbound import factory
from outbound.errors import ProviderError
from outbound.roles import passage_problem
from worker.orm import db
from worker.providers import annotate_sentences, call_provider, speak, translate_texts

from . import levelfit, selectors, services
from .models import Entry
from .selectors import Passage


async def generate(entry: Entry) -> Passage:
    """Write the entry's passage (asked once more if too hard for its level or
    far outside its learner's coverage band, ``levelfit``) and record it;
    return the passage as stored."""
    with metrics.STEP_SECONDS.labels("generate").time():
        return await _generate(entry)


async def _generate(entry: Entry) -> Passage:
    request = await db(selectors.generation_request)(entry=entry)
    generator = factory.get_generator()

    async def usable_passage():
        passage = await generator.generate(request)
        problem = passage_problem(passage.sentences, passage.choices, is_final=request.is_final)
        if problem:
            # Unusable for a learner; the model may well do better next time.
            raise ProviderError(
                f"unusable passage: {problem}", provider="generator", transient=True
            )
        return passage

    passage = await call_provider("generate", usable_passage)
    fitted = await levelfit.fit_to_level(
        passage, request, generator, learner=entry.adventure.user_id
    )
    metrics.LLM_TOKENS.labels("input").inc(fitted.passage.input_tokens)
    metrics.LLM_TOKENS.labels("output").inc(fitted.passage.output_tokens)
    if fitted.regenerated:
        metrics.LEVEL_REASKS.labels(request.target_language, fitted.reasked_for).inc()
    return await db(services.entry_record_generation)(
        entry=entry,
        passage=fitted.passage,
        review_words=request.review_words,
        level=fitted.measured,
        regenerated=fitted.regenerated,
        reasked_for=fitted.reasked_for,
    )


async def translate(entry: Entry, passage: Passage) -> None:
    with metrics.STEP_SECONDS.labels("translate").time():
        await _translate(entry, passage)


async def _translate(entry: Entry, passage: Passage) -> None:
    adventure = entry.adventure
    result = await translate_texts(
        passage.sentences + passage.choices,
        source_language=adventure.target_language,
        target_language=adventure.native_language,
        context=" ".join(passage.sentences),
    )
    count = len(passage.sentences)
    await db(services.entry_record_translation)(
        entry_id=entry.id,
        sentences=result.texts[:count],
        choices=dict(zip(passage.choice_ids, result.texts[count:], strict=True)),
        billed_characters=result.billed_characters,
    )


async def annotate(entry: Entry, passage: Passage) -> None:
    with metrics.STEP_SECONDS.labels("annotate").time():
        language = entry.adventure.target_language
        tokens = await annotate_sentences(passage.sentences, language=language)
        await db(services.entry_record_tokens)(entry_id=entry.id, tokens=tokens)


async def voice(entry: Entry, passage: Passage) -> None:
    with metrics.STEP_SECONDS.labels("voice").time():
        await _voice(entry, passage)


async def _voice(entry: Entry, passage: Passage) -> None:
    stored = await speak(
        passage.sentences,
        language=entry.adventure.target_language,
        name=f"audio/{entry.adventure_id}/{entry.id}",
    )
    try:
        await db(services.entry_record_audio)(
            entry_id=entry.id,
            name=stored.name,
            content_type=stored.content_type,
            duration_ms=stored.duration_ms,
            size_bytes=stored.size_bytes,
            sentence_offsets=stored.offsets,
        )
    except services.EntryGone:
        # Its story was deleted while it was read aloud: the file goes too.
        await asyncio.to_thread(services.audio_files_remove, [stored.name])
        raise
