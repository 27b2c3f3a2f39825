"""The storage clean-up: remove audio files that nothing references.

Entries and digests name their audio files (``Audio.file``,
``DigestAudio.file``); everything else under ``PREFIX`` is an orphan: the file
of a story or branch whose removal failed after its rows were deleted, of a
job that stopped half-way, or written before files were removed with their
rows. ``storage_gc`` lists the storage (local folder, S3 bucket or Bunny zone,
``AudioStorage.listing``), looks the names up in batches, and removes orphans
last written longer ago than the grace period: a file being written now has
no row yet (a voice step stores the file, then records it), so a young file
is never taken for an orphan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from adventures.models import Audio
from adventures.services import audio_files_remove
from news.models import DigestAudio
from outbound import factory
from outbound.roles import StoredFile

logger = logging.getLogger(__name__)

PREFIX = "audio/"
GRACE = timedelta(days=1)
BATCH = 1000


@dataclass
class Collected:
    """What a run found and did; ``orphans`` are the names of the files it
    removed (or, dry, would remove)."""

    files: int = 0
    bytes: int = 0
    referenced: int = 0
    young: int = 0
    orphans: list[str] = field(default_factory=list)
    orphan_bytes: int = 0
    removed: int = 0
    freed_bytes: int = 0

    def as_dict(self) -> dict:
        return {
            "files": self.files,
            "bytes": self.bytes,
            "referenced": self.referenced,
            "young": self.young,
            "orphans": len(self.orphans),
            "orphan_bytes": self.orphan_bytes,
            "removed": self.removed,
            "freed_bytes": self.freed_bytes,
        }


def referenced_files(names: list[str]) -> set[str]:
    """Those of ``names`` that an entry or a digest names as its audio."""
    found = set(Audio.objects.filter(file__in=names).values_list("file", flat=True))
    return found | set(DigestAudio.objects.filter(file__in=names).values_list("file", flat=True))


def storage_gc(
    *,
    older_than: timedelta = GRACE,
    dry_run: bool = False,
    now: datetime | None = None,
    referenced: Callable[[list[str]], set[str]] = referenced_files,
) -> Collected:
    """Remove (``dry_run``: only list) the files under ``PREFIX`` that no entry
    or digest references and that were last written over ``older_than``
    before ``now``. A file whose removal fails stays, logged, for the next run.
    ``referenced`` looks names up (the worker's job hands the lookups to its
    ORM thread and talks to the storage from another)."""
    cutoff = (now or timezone.now()) - older_than
    collected = Collected()
    for batch in _batches(factory.get_audio_storage().listing(PREFIX)):
        known = referenced([file.name for file in batch])
        orphans = []
        for file in batch:
            collected.files += 1
            collected.bytes += file.size
            if file.name in known:
                collected.referenced += 1
            elif file.modified > cutoff:
                collected.young += 1
            else:
                orphans.append(file)
        collected.orphans += [file.name for file in orphans]
        collected.orphan_bytes += sum(file.size for file in orphans)
        if orphans and not dry_run:
            sizes = {file.name: file.size for file in orphans}
            for name in _removed([file.name for file in orphans]):
                collected.removed += 1
                collected.freed_bytes += sizes[name]
    logger.info(
        "storage_gc%s: %d files (%d bytes) under %s, %d referenced, %d younger than %s; "
        "%d orphans (%d bytes), %d removed (%d bytes freed)",
        " (dry run)" if dry_run else "",
        collected.files,
        collected.bytes,
        PREFIX,
        collected.referenced,
        collected.young,
        older_than,
        len(collected.orphans),
        collected.orphan_bytes,
        collected.removed,
        collected.freed_bytes,
    )
    return collected


def _removed(names: list[str]) -> Iterator[str]:
    """The names among ``names`` whose files are gone after removing them."""
    for name in names:
        if audio_files_remove([name]):
            yield name


def _batches(files: Iterator[StoredFile]) -> Iterator[list[StoredFile]]:
    batch: list[StoredFile] = []
    for file in files:
        batch.append(file)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
