"""Audio files leave storage after the rows that name them.

Whatever deletes entries (a story deleted, a learner leaving, a dropped
branch discarded) collects their ``Audio.file`` names before the rows go and
hands them to ``audio_files_remove_on_commit``: the files are removed once the
transaction commits, never if it rolls back. A removal that fails is logged
and left to ``storage_gc``, which removes any file that no entry or digest
references.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction

from outbound import factory
from outbound.errors import ProviderError

logger = logging.getLogger(__name__)


def audio_files_remove_on_commit(names: list[str]) -> None:
    """Remove the audio files ``names`` once the caller's transaction has
    committed (never if it rolls back)."""
    if names:
        transaction.on_commit(lambda: audio_files_remove(names))


def audio_files_remove(names: Iterable[str]) -> int:
    """Remove the audio files ``names`` from storage; return how many. One
    that fails is logged and left for ``storage_gc``: the rows are gone
    already, and a missing file is never a reason to keep them."""
    storage = factory.get_audio_storage()
    removed = 0
    for name in names:
        try:
            storage.delete(name)
        except ProviderError as exc:
            logger.warning("audio file %s not removed (storage_gc will): %s", name, exc)
        else:
            removed += 1
    return removed
