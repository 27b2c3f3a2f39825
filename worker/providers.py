"""The provider roles asked from the worker: every call through ``call_provider``.

A transient failure is tried again inside the step, a few times and quickly,
before the job fails and waits for the queue's (much slower) retry. The role
calls below take plain data (texts and languages) and return the role's
result; the entry and digest pipelines record it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings

from langlearn import metrics
from outbound import factory
from outbound.errors import ProviderError
from outbound.gemini.wav import join_wavs
from outbound.roles import AnnotatedToken, Speech, Translation

from . import ratelimits

R = TypeVar("R")

logger = logging.getLogger(__name__)


async def call_provider(step: str, call: Callable[[], Awaitable[R]]) -> R:
    """``await call()``, tried again on a transient ``ProviderError``.

    ``settings.PROVIDER_RETRY``: up to ``tries`` calls; between them the wait
    the provider asked for (``retry_after``), else an exponential one with
    jitter; never a wait that would end after the step's ``budget``. Each call
    first takes a slot of its provider's ``PROVIDER_LIMITS`` budget, shared by
    every worker (``ratelimits``), and a ``retry_after`` pauses that provider
    for every worker. Permanent errors, and the last transient one, propagate:
    the job's retry policy decides what happens next.
    """
    policy = settings.PROVIDER_RETRY
    deadline = time.monotonic() + policy["budget"]
    attempt = 1
    while True:
        try:
            # Waiting for a slot of the budget is not part of the retry budget.
            await ratelimits.acquire(step)
            return await _counted(step, call)
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


def _outcome(exc: ProviderError) -> str:
    if exc.status == 429:
        return "rate_limited"
    return "transient" if exc.transient else "permanent"


async def _counted(step: str, call: Callable[[], Awaitable[R]]) -> R:
    """One provider call, counted by outcome and timed (``langlearn.metrics``)."""
    provider = ratelimits.provider_of(step)
    started = time.monotonic()
    outcome = "permanent"  # anything but a ProviderError: a bug, not worth retrying
    try:
        result = await call()
        outcome = "ok"
        return result
    except ProviderError as exc:
        outcome = _outcome(exc)
        raise
    finally:
        metrics.PROVIDER_SECONDS.labels(provider, step).observe(time.monotonic() - started)
        metrics.PROVIDER_CALLS.labels(provider, step, outcome).inc()


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

    translation = await call_provider("translate", translations)
    metrics.TRANSLATED_CHARACTERS.inc(translation.billed_characters)
    return translation


async def annotate_sentences(sentences: list[str], *, language: str) -> list[AnnotatedToken]:
    annotator = factory.get_annotator()
    return await call_provider("annotate", lambda: annotator.annotate(sentences, language=language))


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
    metrics.VOICED_SECONDS.inc(voiced.duration_ms / 1000)
    storage = factory.get_audio_storage()
    stored = await asyncio.to_thread(
        storage.save, f"{name}.wav", voiced.audio, content_type=voiced.content_type
    )
    return StoredSpeech(
        stored, voiced.content_type, voiced.duration_ms, len(voiced.audio), voiced.offsets
    )
