"""The entry pipeline: generate, then translate, annotate and voice side by side.

``run_entry_pipeline`` is what the worker's job calls. Each step records its
result, with its ``Entry.*_at`` timestamp, in its own transaction before the
pipeline moves on. A run skips the steps already recorded, so a retried job
resumes where the last one stopped: the LLM is paid for once per entry however
often a later step fails. An entry already ``complete`` is left untouched, so
a duplicate job is harmless. Status changes go through ``services``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from uuid import UUID

from outbound.roles import GenerationRequest

from . import selectors, services, steps
from .locks import entry_lock
from .models import Entry
from .steps import db

logger = logging.getLogger(__name__)


async def run_entry_pipeline(*, adventure_id: UUID, entry_id: UUID, user_id: UUID) -> None:
    async with entry_lock(entry_id) as acquired:
        if not acquired:
            # The same entry is being generated right now, by a job that was
            # re-queued while it still ran. That run will finish the entry.
            logger.warning("entry %s is already being generated; skipping", entry_id)
            return
        entry, request = await db(_start)(
            adventure_id=adventure_id, entry_id=entry_id, user_id=user_id
        )
        if entry is None:
            logger.info("entry %s is complete, or a dropped branch; nothing to do", entry_id)
            return
        if request is not None:
            passage = await steps.generate(entry, request)
            if entry.is_branch and await db(services.branch_dropped)(entry_id=entry.id):
                # A decision for another choice dropped this branch meanwhile.
                logger.info("branch %s was dropped; stopping after generation", entry_id)
                return
        else:
            passage = await db(selectors.entry_passage)(entry=entry)
        todo = [
            step
            for step, done in (
                (steps.translate, entry.translated_at),
                (steps.annotate, entry.annotated_at),
                (steps.voice, entry.voiced_at),
            )
            if done is None
        ]
        completion = _Completion(entry.id, steps_left=len(todo))
        # Each step records its own result; a failing step does not cancel the
        # others, so whatever finished is kept for the retry.
        results = await asyncio.gather(
            *(step(entry, passage, completion.record) for step in todo), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result
        if not completion.done:
            await db(services.entry_complete)(entry_id=entry.id)


def _start(
    *, adventure_id: UUID, entry_id: UUID, user_id: UUID
) -> tuple[Entry | None, GenerationRequest | None]:
    """``services.entry_start`` (its own transaction, committed here), then,
    if the entry is still to be generated, what to ask the generator: one
    trip to the worker's database thread instead of two."""
    entry = services.entry_start(adventure_id=adventure_id, entry_id=entry_id, user_id=user_id)
    if entry is None or entry.generated_at is not None:
        return entry, None
    return entry, selectors.generation_request(entry=entry)


class _Completion:
    """Records the steps' results and completes the entry right after the last
    one, in the same trip to the database thread (each still its own
    transaction): the entry is complete a hop sooner.

    The last step is the one that records while every other step has recorded
    already; a step that failed never recorded, so no step is the last then.
    Two steps recording at once may both miss being last; the pipeline then
    completes the entry after them (``done`` is false).
    """

    def __init__(self, entry_id: UUID, *, steps_left: int) -> None:
        self.entry_id = entry_id
        self.steps_left = steps_left
        self.done = False

    async def record(self, record: Callable[[], None]) -> None:
        last = self.steps_left == 1

        def record_then_complete() -> None:
            record()
            if last:
                services.entry_complete(entry_id=self.entry_id)

        await db(record_then_complete)()
        self.steps_left -= 1
        self.done = last
