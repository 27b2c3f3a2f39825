from __future__ import annotations

from asgiref.sync import async_to_sync

from adventures import pipeline
from adventures.models import Entry


def run_pipeline(entry: Entry) -> Entry:
    """Run the real pipeline for ``entry`` in this process (stub providers)."""
    async_to_sync(pipeline.run_entry_pipeline)(
        adventure_id=entry.adventure_id, entry_id=entry.id, user_id=entry.adventure.user_id
    )
    entry.refresh_from_db()
    return entry
