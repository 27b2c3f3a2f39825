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
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings

from outbound import factory
from outbound.errors import ProviderError
from outbound.roles import passage_problem

from . import ratelimits, selectors, services
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


async def generate(entry: Entry) -> None:
    request = await db(selectors.generation_request)(entry=entry)

    async def usable_passage():
        passage = await factory.get_generator().generate(request)
        problem = passage_problem(passage.sentences, passage.choices, is_final=entry.is_final)
        if problem:
            # Unusable for a learner; the model may well do better next time.
            raise ProviderError(
                f"unusable passage: {problem}", provider="generator", transient=True
            )
        return passage

    passage = await call_provider("generate", usable_passage)
    await db(services.entry_record_generation)(entry=entry, passage=passage)


async def translate(entry: Entry, passage: Passage) -> None:
    adventure = entry.adventure
    texts = passage.sentences + passage.choices

    async def translations():
        result = await factory.get_translator().translate(
            texts,
            source_language=adventure.target_language,
            target_language=adventure.native_language,
            context=" ".join(passage.sentences),
        )
        if len(result.texts) != len(texts):
            raise ProviderError(
                f"expected {len(texts)} translations, got {len(result.texts)}",
                provider="translator",
                transient=True,
            )
        return result

    result = await call_provider("translate", translations)
    count = len(passage.sentences)
    await db(services.entry_record_translation)(
        entry_id=entry.id,
        sentences=result.texts[:count],
        choices=dict(zip(passage.choice_ids, result.texts[count:], strict=True)),
        billed_characters=result.billed_characters,
    )


async def annotate(entry: Entry, passage: Passage) -> None:
    annotator, language = factory.get_annotator(), entry.adventure.target_language
    tokens = await call_provider(
        "annotate", lambda: annotator.annotate(passage.sentences, language=language)
    )
    await db(services.entry_record_tokens)(entry_id=entry.id, tokens=tokens)


async def voice(entry: Entry, passage: Passage) -> None:
    voice, text = factory.get_voice(), " ".join(passage.sentences)
    speech = await call_provider(
        "voice", lambda: voice.synthesize(text, language=entry.adventure.target_language)
    )
    extension = "wav" if "wav" in speech.content_type else "bin"
    name = f"audio/{entry.adventure_id}/{entry.id}.{extension}"
    storage = factory.get_audio_storage()
    stored = await asyncio.to_thread(
        storage.save, name, speech.audio, content_type=speech.content_type
    )
    await db(services.entry_record_audio)(
        entry_id=entry.id,
        name=stored,
        content_type=speech.content_type,
        duration_ms=speech.duration_ms,
        size_bytes=len(speech.audio),
    )
