"""The entry pipeline: generate, then translate, annotate and voice side by side.

``run_entry_pipeline`` is what the worker's job calls. Each step records its
result, with its ``Entry.*_at`` timestamp, in its own transaction. Translate,
annotate and voice start as soon as the passage is written (while it is being
recorded) and record their results once it is: a step's record never precedes
the generation's. A run skips the steps already recorded, so a retried job
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
from .selectors import Passage
from .steps import db

logger = logging.getLogger(__name__)


async def run_entry_pipeline(*, adventure_id: UUID, entry_id: UUID, user_id: UUID) -> None:
    async with entry_lock(entry_id) as acquired:
        if not acquired:
            # The same entry is being generated right now, by a job that was
            # re-queued while it still ran. That run will finish the entry.
            logger.warning("entry %s is already being generated; skipping", entry_id)
            return
        # For an entry a learner waits for, the generator is asked while
        # ``entry_start`` commits (see ``_request_ahead``).
        ahead = await db(_request_ahead)(
            adventure_id=adventure_id, entry_id=entry_id, user_id=user_id
        )
        writing = _write(*ahead) if ahead else None
        try:
            entry, request = await db(_start)(
                adventure_id=adventure_id,
                entry_id=entry_id,
                user_id=user_id,
                read_request=writing is None,
            )
        except BaseException:
            await _cancel(writing)
            raise
        if entry is None:
            await _cancel(writing)
            logger.info("entry %s is complete, or a dropped branch; nothing to do", entry_id)
            return
        recorded: asyncio.Future[Passage] | None = None
        if entry.generated_at is not None:
            await _cancel(writing)
            passage = await db(selectors.entry_passage)(entry=entry)
        elif entry.is_branch:
            assert request is not None
            passage = await steps.generate(entry, request)
            if await db(services.branch_dropped)(entry_id=entry.id):
                # A decision for another choice dropped this branch meanwhile.
                logger.info("branch %s was dropped; stopping after generation", entry_id)
                return
        else:
            # A learner waits for this one: the steps after generation start
            # while the passage is being recorded, and record their own
            # results once it is (see ``_after``).
            if writing is None:
                assert request is not None
                writing = _write(entry, request)
            written = await writing
            recorded = asyncio.ensure_future(db(steps.record_generation)(entry, written))
            passage = written.stored
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
        record = completion.record if recorded is None else _after(recorded, completion.record)
        # Each step records its own result; a failing step does not cancel the
        # others, so whatever finished is kept for the retry.
        running = [asyncio.ensure_future(step(entry, passage, record)) for step in todo]
        if recorded is not None:
            try:
                await asyncio.shield(recorded)
            except BaseException:
                # Not recorded: nothing the steps find can be kept.
                for task in running:
                    task.cancel()
                await asyncio.gather(*running, return_exceptions=True)
                raise
        results = await asyncio.gather(*running, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        if not completion.done:
            await db(services.entry_complete)(entry_id=entry.id)


def _after(recorded: asyncio.Future[Passage], record: steps.Record) -> steps.Record:
    """``record``, once the generation is recorded: a step's rows refer to the
    passage's. Shielded: a step cancelled while it waits must not cancel the
    generation's record."""

    async def record_after(result: Callable[[], None]) -> None:
        await asyncio.shield(recorded)
        await record(result)

    return record_after


def _request_ahead(
    *, adventure_id: UUID, entry_id: UUID, user_id: UUID
) -> tuple[Entry, GenerationRequest] | None:
    """For an entry a learner waits for that is still to be generated: the
    entry and what to ask the generator, read (nothing written) before
    ``entry_start``, so that the generator is asked while that commits: the
    start's writes are off the time the learner waits. None otherwise
    (branches, entries generated already, or gone: ``_start`` sees to them).

    The run holds the entry's lock, so no other run generates it meanwhile; if
    ``entry_start`` then finds the entry gone (its adventure deleted in
    between), the call in flight is cancelled.
    """
    entry = (
        Entry.objects.select_related("adventure")
        .filter(id=entry_id, adventure_id=adventure_id, adventure__user_id=user_id)
        .first()
    )
    if (
        entry is None
        or entry.is_branch
        or entry.generated_at is not None
        or entry.status == Entry.Status.COMPLETE
    ):
        return None
    return entry, selectors.generation_request(entry=entry)


def _write(entry: Entry, request: GenerationRequest) -> asyncio.Task[steps.Written]:
    return asyncio.ensure_future(steps.write(request, is_final=entry.is_final))


async def _cancel(task: asyncio.Task | None) -> None:
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _start(
    *, adventure_id: UUID, entry_id: UUID, user_id: UUID, read_request: bool
) -> tuple[Entry | None, GenerationRequest | None]:
    """``services.entry_start`` (its own transaction, committed here), then,
    if the entry is still to be generated and ``read_request``, what to ask
    the generator: one trip to the worker's database thread instead of two."""
    entry = services.entry_start(adventure_id=adventure_id, entry_id=entry_id, user_id=user_id)
    if entry is None or entry.generated_at is not None or not read_request:
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
