"""The pipeline's four steps. Each asks one provider role and records what it
found through ``services.results``, in a transaction of its own.

Every provider call goes through ``call_provider``: a transient failure is
tried again inside the step, a few times and quickly, before the job fails and
waits for the queue's (much slower) retry.

The ORM is synchronous: steps reach it through ``db``, which runs it in a
thread (see its docstring for which thread, and why).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings

from outbound import factory
from outbound.errors import ProviderError
from outbound.gemini.wav import join_wavs
from outbound.roles import (
    AnnotatedToken,
    GenerationRequest,
    Speech,
    Translation,
    passage_problem,
)

from . import levelfit, ratelimits, selectors, services
from .models import Entry
from .selectors import Passage

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger(__name__)


def db(function: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """``function`` (ORM work) made awaitable from the worker's event loop.

    ``thread_sensitive=True``, on purpose: every ORM call of a worker process
    runs on one shared thread with one Django connection. Each call is one short
    transaction (a few ms) while a job spends seconds waiting for providers, so
    the thread is not the bottleneck. Measured with ``python -m bench`` (issue
    10, 2 cores): ``thread_sensitive=False`` changed neither the pipeline
    overhead (43-56 ms p50 in both modes, run-to-run noise) nor throughput at
    ``WORKER_CONCURRENCY=32`` (17.3 vs 17.2-17.5 entries/s). And it would be
    wrong: each thread of the loop's default executor would keep a Django
    connection that Procrastinate's per-job ``close_old_connections`` never
    visits (it runs on the thread-sensitive thread), so after PostgreSQL drops
    connections (a restart, a failover) every call on those threads would fail
    until the worker restarts. Revisit only with a dedicated executor that
    closes old connections itself.
    """
    return sync_to_async(function, thread_sensitive=True)


async def call_provider(step: str, call: Callable[[], Awaitable[R]]) -> R:
    """``await call()``, tried again on a transient ``ProviderError``.

    ``settings.PROVIDER_RETRY``: up to ``tries`` calls; between them the wait
    the provider asked for (``retry_after``), else an exponential one with
    jitter; never a wait that would end after the step's ``budget``. Each call
    first takes a slot of its provider's ``PROVIDER_LIMITS`` budget, shared by
    every worker (``ratelimits``), and a ``retry_after`` pauses that provider
    for every worker. Permanent
    errors, and the last transient one, propagate: the job's retry policy
    decides what happens next.
    """
    policy = settings.PROVIDER_RETRY
    deadline = time.monotonic() + policy["budget"]
    attempt = 1
    while True:
        try:
            # A slot of the provider's fleet-wide budget (PROVIDER_LIMITS), if
            # it has one; waiting for it is not part of the retry budget.
            await ratelimits.acquire(step)
            return await call()
        except ProviderError as exc:
            if exc.retry_after is not None:
                await ratelimits.pause_fleet(step, exc.retry_after)
            if not exc.transient or attempt >= policy["tries"]:
                raise
            if exc.retry_after is not None:
                wait = exc.retry_after
            else:
                backoff = policy["wait_minimum"] * 2 ** (attempt - 1)
                wait = min(backoff, policy["wait_maximum"]) * random.uniform(0.5, 1.0)
            if time.monotonic() + wait > deadline:
                raise
            logger.warning(
                "%s failed (try %d of %d), trying again in %.1fs: %s",
                step,
                attempt,
                policy["tries"],
                wait,
                exc,
            )
            await asyncio.sleep(wait)
            attempt += 1


async def generate(entry: Entry, request: GenerationRequest | None = None) -> Passage:
    """Generate the entry's passage, measure its level and record it; return
    the passage as stored. ``request``: ``selectors.generation_request`` of
    the entry, when the caller has read it already."""
    if request is None:
        request = await db(selectors.generation_request)(entry=entry)
    written = await write(request, is_final=entry.is_final)
    return await db(record_generation)(entry, written)


@dataclass(frozen=True)
class Written:
    """A passage the generator wrote and the level fit kept, not yet stored."""

    request: GenerationRequest
    fitted: levelfit.FittedPassage
    stored: Passage  # what recording it stores, choice ids included


async def write(request: GenerationRequest, *, is_final: bool) -> Written:
    """The generate step's provider part: a usable passage from the generator,
    asked once more if clearly above the level; nothing stored."""
    generator = factory.get_generator()

    async def usable_passage():
        passage = await generator.generate(request)
        problem = passage_problem(passage.sentences, passage.choices, is_final=is_final)
        if problem:
            # Unusable for a learner; the model may well do better next time.
            raise ProviderError(
                f"unusable passage: {problem}", provider="generator", transient=True
            )
        return passage

    passage = await call_provider("generate", usable_passage)
    # Measured against the adventure's level; asked once more if clearly above it.
    fitted = await levelfit.fit_to_level(passage, request, generator)
    return Written(request, fitted, services.passage_to_store(fitted.passage))


def record_generation(entry: Entry, written: Written) -> Passage:
    """The generate step's record (ORM; through ``db``)."""
    return services.entry_record_generation(
        entry=entry,
        passage=written.fitted.passage,
        review_words=written.request.review_words,
        level_fit=written.fitted.fit,
        regenerated=written.fitted.regenerated,
        stored=written.stored,
    )


# How a step records its result: by default, its own trip to the database
# thread; the pipeline passes one that may complete the entry in the same trip.
Record = Callable[[Callable[[], None]], Awaitable[None]]


async def record_alone(record: Callable[[], None]) -> None:
    await db(record)()


async def translate(entry: Entry, passage: Passage, record: Record = record_alone) -> None:
    adventure = entry.adventure
    texts = passage.sentences + passage.choices
    result = await translate_texts(
        texts,
        source_language=adventure.target_language,
        target_language=adventure.native_language,
        context=" ".join(passage.sentences),
    )
    count = len(passage.sentences)
    await record(
        partial(
            services.entry_record_translation,
            entry_id=entry.id,
            sentences=result.texts[:count],
            choices=dict(zip(passage.choice_ids, result.texts[count:], strict=True)),
            billed_characters=result.billed_characters,
        )
    )


async def annotate(entry: Entry, passage: Passage, record: Record = record_alone) -> None:
    tokens = await annotate_sentences(passage.sentences, language=entry.adventure.target_language)
    await record(partial(services.entry_record_tokens, entry_id=entry.id, tokens=tokens))


@dataclass(frozen=True)
class VoicedSentences:
    """Sentences read aloud one by one and joined into one WAV file."""

    audio: bytes
    content_type: str
    duration_ms: int  # of the joined file: the sum of the sentences' whole frames
    offsets: list[tuple[int, int]]  # (start_ms, end_ms) of each sentence, contiguous


async def voice_sentences(sentences: Sequence[str], *, language: str) -> VoicedSentences:
    """Voice each sentence (``settings.VOICE_CONCURRENCY`` calls at a time, each
    through ``call_provider``), join the WAVs in order, and say where each
    sentence starts and ends: the voice gives no timestamps, so a sentence's
    place in the file is where its own audio was put.

    One call per sentence: passages are 4-7 short sentences, so that is the
    granularity learners tap, and the calls run in parallel. If a sentence
    fails for good, this raises and nothing is kept: the step is retried as a
    whole (its sentences are voiced again). Audio that is not WAV, or WAVs of
    different formats, is a transient ``ProviderError`` (the voice's answers
    are one format; a next try may be fine).
    """
    voice = factory.get_voice()
    limit = asyncio.Semaphore(max(1, settings.VOICE_CONCURRENCY))

    async def one(text: str) -> Speech:
        async with limit:
            return await call_provider("voice", lambda: voice.synthesize(text, language=language))

    try:
        async with asyncio.TaskGroup() as group:  # the first failure cancels the rest
            tasks = [group.create_task(one(text)) for text in sentences]
    except BaseExceptionGroup as failed:
        raise _worst(failed) from None
    speeches = [task.result() for task in tasks]
    try:
        joined = join_wavs([speech.audio for speech in speeches])
    except ValueError as exc:
        raise ProviderError(
            f"cannot join the audio: {exc}", provider="voice", transient=True
        ) from exc
    return VoicedSentences(
        audio=joined.audio,
        content_type="audio/wav",
        duration_ms=joined.duration_ms,
        offsets=joined.offsets,
    )


def _worst(failed: BaseExceptionGroup) -> BaseException:
    """The failure of a group to report: a permanent ProviderError if any (no
    retry can help), else the first one."""
    errors = list(failed.exceptions)
    permanent = [e for e in errors if isinstance(e, ProviderError) and not e.transient]
    return (permanent or errors)[0]


async def voice(entry: Entry, passage: Passage, record: Record = record_alone) -> None:
    stored = await speak(
        passage.sentences,
        language=entry.adventure.target_language,
        name=f"audio/{entry.adventure_id}/{entry.id}",
    )
    await record(
        partial(
            services.entry_record_audio,
            entry_id=entry.id,
            name=stored.name,
            content_type=stored.content_type,
            duration_ms=stored.duration_ms,
            size_bytes=stored.size_bytes,
            sentence_offsets=stored.offsets,
        )
    )


# --- The provider-asking part of each step, on plain data ------------------------------
# The entry steps above and the news digest (``news.pipeline``) both call these:
# texts and languages in, the role's result out, through ``call_provider``.


async def translate_texts(
    texts: list[str], *, source_language: str, target_language: str, context: str = ""
) -> Translation:
    """``texts`` translated, one per text, or a transient failure."""

    async def translations():
        result = await factory.get_translator().translate(
            texts,
            source_language=source_language,
            target_language=target_language,
            context=context,
        )
        if len(result.texts) != len(texts):
            raise ProviderError(
                f"expected {len(texts)} translations, got {len(result.texts)}",
                provider="translator",
                transient=True,
            )
        return result

    return await call_provider("translate", translations)


async def annotate_sentences(sentences: list[str], *, language: str) -> list[AnnotatedToken]:
    annotator = factory.get_annotator()
    return await call_provider("annotate", lambda: annotator.annotate(sentences, language=language))


@dataclass(frozen=True)
class StoredSpeech:
    name: str  # in the audio storage
    content_type: str
    duration_ms: int
    size_bytes: int
    offsets: list[tuple[int, int]]  # (start_ms, end_ms) of each sentence


async def speak(sentences: Sequence[str], *, language: str, name: str) -> StoredSpeech:
    """``sentences`` read aloud (``voice_sentences``), joined into one WAV file
    stored as ``name`` + ``.wav``, with where each sentence starts and ends."""
    voiced = await voice_sentences(sentences, language=language)
    storage = factory.get_audio_storage()
    stored = await asyncio.to_thread(
        storage.save, f"{name}.wav", voiced.audio, content_type=voiced.content_type
    )
    return StoredSpeech(
        stored, voiced.content_type, voiced.duration_ms, len(voiced.audio), voiced.offsets
    )
