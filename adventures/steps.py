"""The pipeline's four steps. Each asks one provider role and records what it
found through ``services.results``, in a transaction of its own.

The ORM is synchronous: steps reach it through ``db``, which runs it in a
thread (see its docstring for which thread, and why).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from asgiref.sync import sync_to_async

from outbound import factory
from outbound.errors import ProviderError
from outbound.roles import passage_problem

from . import selectors, services
from .models import Entry
from .selectors import Passage

P = ParamSpec("P")
R = TypeVar("R")


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


async def generate(entry: Entry) -> None:
    request = await db(selectors.generation_request)(entry=entry)
    passage = await factory.get_generator().generate(request)
    problem = passage_problem(passage.sentences, passage.choices, is_final=entry.is_final)
    if problem:
        # Unusable for a learner; the model may well do better next time.
        raise ProviderError(f"unusable passage: {problem}", provider="generator", transient=True)
    await db(services.entry_record_generation)(entry=entry, passage=passage)


async def translate(entry: Entry, passage: Passage) -> None:
    adventure = entry.adventure
    texts = passage.sentences + passage.choices
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
    count = len(passage.sentences)
    await db(services.entry_record_translation)(
        entry_id=entry.id,
        sentences=result.texts[:count],
        choices=dict(zip(passage.choice_ids, result.texts[count:], strict=True)),
        billed_characters=result.billed_characters,
    )


async def annotate(entry: Entry, passage: Passage) -> None:
    tokens = await factory.get_annotator().annotate(
        passage.sentences, language=entry.adventure.target_language
    )
    await db(services.entry_record_tokens)(entry_id=entry.id, tokens=tokens)


async def voice(entry: Entry, passage: Passage) -> None:
    speech = await factory.get_voice().synthesize(
        " ".join(passage.sentences), language=entry.adventure.target_language
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
