"""The entry pipeline: lock → start → generate → record → translate, annotate
and voice side by side → complete.

``run_entry_pipeline`` is what the worker's job calls, for an entry a learner
waits for and for a branch generated ahead alike. Each step records its result,
with its ``Entry.*_at`` timestamp, in its own transaction, and a run skips the
steps already recorded: a retried job resumes where the last one stopped, and
the LLM is paid for once per entry however often a later step fails. An entry
already ``complete`` is left untouched, so a duplicate job is harmless. Status
changes go through ``services``.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from uuid import UUID

from worker.locks import advisory_lock, uuid_key
from worker.orm import db
from worker.steps import side_by_side

from . import selectors, services, steps

logger = logging.getLogger(__name__)


def entry_lock(entry_id: UUID) -> AbstractAsyncContextManager[bool]:
    """One run of an entry at a time, across every worker (``worker.locks``)."""
    return advisory_lock(uuid_key(entry_id))


async def run_entry_pipeline(*, adventure_id: UUID, entry_id: UUID, user_id: UUID) -> None:
    async with entry_lock(entry_id) as acquired:
        if not acquired:
            # The same entry is being generated right now, by a job that was
            # re-queued while it still ran. That run will finish the entry.
            logger.warning("entry %s is already being generated; skipping", entry_id)
            return
        entry = await db(services.entry_start)(
            adventure_id=adventure_id, entry_id=entry_id, user_id=user_id
        )
        if entry is None:
            logger.info("entry %s is complete, or a dropped branch; nothing to do", entry_id)
            return
        if entry.generated_at is None:
            passage = await steps.generate(entry)
            if entry.is_branch and await db(services.branch_dropped)(entry_id=entry.id):
                # A decision for another choice dropped this branch meanwhile.
                logger.info("branch %s was dropped; stopping after generation", entry_id)
                return
        else:
            passage = await db(selectors.entry_passage)(entry=entry)
        await side_by_side(
            *(
                step(entry, passage)
                for step, done in (
                    (steps.translate, entry.translated_at),
                    (steps.annotate, entry.annotated_at),
                    (steps.voice, entry.voiced_at),
                )
                if done is None
            )
        )
        await db(services.entry_complete)(entry_id=entry.id)
