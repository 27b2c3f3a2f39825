"""Operations' periodic job: the storage clean-up, daily on the maintenance
queue (``STORAGE_GC_CRON``)."""

from __future__ import annotations

import asyncio

from django.conf import settings
from procrastinate.contrib.django import app

from worker.orm import db
from worker.setup import periodic

from .storage_gc import referenced_files, storage_gc


@periodic(cron=settings.STORAGE_GC_CRON, periodic_id="storage_gc")
@app.task(
    name="operations.storage_gc",
    queue=settings.MAINTENANCE_QUEUE,
    queueing_lock="storage_gc",
)
async def storage_gc_daily(timestamp: int) -> int:
    """Remove the audio files nothing references, written over a day ago
    (``storage_gc``); returns how many. The storage's listing and removals
    run in a thread of their own, the name lookups on the worker's ORM thread
    (``worker.orm``), so the pipeline's jobs are not held up meanwhile."""
    loop = asyncio.get_running_loop()

    async def lookup(names: list[str]) -> set[str]:
        return await db(referenced_files)(names)

    def referenced(names: list[str]) -> set[str]:
        return asyncio.run_coroutine_threadsafe(lookup(names), loop).result()

    collected = await asyncio.to_thread(storage_gc, referenced=referenced)
    return collected.removed
