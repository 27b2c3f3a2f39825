"""The ``floors`` section: what each piece of a learner's wait costs on its own.

``pipeline.overhead_ms_p50`` is measured with six stories running at once on
two cores. Here the same pieces run one at a time, in the order
``adventures.pipeline.run_entry_pipeline`` runs them for an entry a learner
waits for, with the stub providers answering at once and nothing else running:
the decision over HTTP (the web server, as in production), then in this
process, each as the worker calls it (the ORM through ``steps.db``, its thread
hop included), except that ``steps.write`` is taken apart so that the generator
and the level fit are timed one by one (the generator asked directly, without
``call_provider``'s retries or the passage check: the stub's passages pass).
``pickup`` (the decision's commit to the worker's fetch) comes from the
``dispatch`` measure. Their sum, ``critical_sum_ms``, is the least
``overhead_ms_p50`` can be on this machine as the code stands: a change that
lowers the overhead should lower a floor here too.

Pieces off the learner's wait (they overlap the generator or the voice) are
reported apart: ``entry_start`` (committed while the generator writes),
``record_generation``, ``translate`` and ``annotate`` (while the voice reads).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from .stats import distribution

# In the order the learner waits for them.
CRITICAL = (
    "decision_request",
    "pickup",
    "request_ahead",
    "generator",
    "level_fit",
    "voice",
    "record_audio",
    "entry_complete",
)
OVERLAPPED = ("entry_start", "record_generation", "translate", "annotate")

# (adventure id, entry id, choice id) -> (the next entry's id, ms the request took)
Decide = Callable[[UUID, UUID, UUID], tuple[UUID, float]]


def measure(
    adventures: list[tuple[UUID, UUID, UUID]],
    decide: Decide,
    *,
    pickup_ms: float | None,
    warmup: int = 0,
) -> dict[str, Any]:
    """``adventures``: (adventure, its first entry, its user), entries still
    pending, no worker running. For each: the first entry generated (not
    timed), a decision on it (``decide``), then the pieces of the next one.
    The first ``warmup`` are not counted (this process loads the annotator's
    and the level fit's data on its first passage)."""
    from adventures import locks

    samples: dict[str, list[float]] = {name: [] for name in (*CRITICAL, *OVERLAPPED)}
    samples.pop("pickup")
    for index, (adventure_id, entry_id, user_id) in enumerate(adventures):
        counted = samples if index >= warmup else {name: [] for name in samples}
        asyncio.run(_one(adventure_id, entry_id, user_id, decide, counted))
        # Each run is its own event loop: the entry-lock session of the last
        # one belongs to a loop that is gone.
        locks.close()
    pieces = {name: distribution(values)["p50"] for name, values in samples.items()}
    if pickup_ms is not None:
        pieces["pickup"] = pickup_ms
    critical = {name: pieces[name] for name in CRITICAL if name in pieces}
    return {
        "samples": len(adventures) - warmup,
        "critical_ms_p50": critical,
        "critical_sum_ms": round(sum(critical.values()), 2),
        "overlapped_ms_p50": {name: pieces[name] for name in OVERLAPPED},
    }


async def _one(
    adventure_id: UUID,
    entry_id: UUID,
    user_id: UUID,
    decide: Decide,
    samples: dict[str, list[float]],
) -> None:
    from adventures import levelfit, pipeline, services, steps
    from adventures.models import Choice, Entry
    from adventures.steps import db
    from outbound import factory

    await pipeline.run_entry_pipeline(adventure_id=adventure_id, entry_id=entry_id, user_id=user_id)
    choice_id = await db(
        lambda: Choice.objects.filter(entry_id=entry_id).order_by("index").values_list("id")[0][0]
    )()
    next_id, request_ms = await asyncio.to_thread(decide, adventure_id, entry_id, choice_id)
    samples["decision_request"].append(request_ms)

    async def timed(name: str, work: Any) -> Any:
        started = time.perf_counter()
        result = await work
        samples[name].append((time.perf_counter() - started) * 1000)
        return result

    ids = {"adventure_id": adventure_id, "entry_id": next_id, "user_id": user_id}
    ahead = await timed("request_ahead", db(pipeline._request_ahead)(**ids))
    if ahead is None:
        raise RuntimeError(f"entry {next_id} is not waiting to be generated")
    entry, request = ahead
    await timed("entry_start", db(services.entry_start)(**ids))
    generator = factory.get_generator()
    passage = await timed("generator", generator.generate(request))
    fitted = await timed("level_fit", levelfit.fit_to_level(passage, request, generator))
    written = steps.Written(request, fitted, services.passage_to_store(fitted.passage))
    stored = await timed("record_generation", db(steps.record_generation)(entry, written))
    await timed("translate", steps.translate(entry, stored))
    await timed("annotate", steps.annotate(entry, stored))
    speech = await timed(
        "voice",
        steps.speak(
            stored.sentences,
            language=entry.adventure.target_language,
            name=f"audio/{adventure_id}/{next_id}",
        ),
    )
    await timed(
        "record_audio",
        db(services.entry_record_audio)(
            entry_id=next_id,
            name=speech.name,
            content_type=speech.content_type,
            duration_ms=speech.duration_ms,
            size_bytes=speech.size_bytes,
            sentence_offsets=speech.offsets,
        ),
    )
    await timed("entry_complete", db(services.entry_complete)(entry_id=next_id))
    status = await db(lambda: Entry.objects.values_list("status", flat=True).get(id=next_id))()
    if status != Entry.Status.COMPLETE:
        raise RuntimeError(f"entry {next_id} is {status} after its pieces")
