"""What the sections read back while learners play: which entries the worker
has completed, and when (``Entry.completed_at``), and their choices. Read from
the database the product writes, so that polling puts no load on the web
server being measured."""

from __future__ import annotations

from collections.abc import Iterable

from .processes import BenchError


def completed(entry_ids: Iterable[str]) -> dict[str, float]:
    """Of ``entry_ids``, those complete: when each completed (wall clock, s).
    An entry in error stops the run."""
    from adventures.models import Entry

    rows = Entry.objects.filter(id__in=list(entry_ids)).values_list(
        "id", "status", "completed_at", "error_detail"
    )
    done = {}
    for entry_id, status, completed_at, error in rows:
        if status == Entry.Status.ERROR:
            raise BenchError(f"entry {entry_id} failed: {error}")
        if status == Entry.Status.COMPLETE and completed_at is not None:
            done[str(entry_id)] = completed_at.timestamp()
    return done


def choice_ids(entry_id: str) -> list[str]:
    """The entry's choices, in order."""
    from adventures.models import Choice

    ids = Choice.objects.filter(entry_id=entry_id).order_by("index").values_list("id", flat=True)
    return [str(choice_id) for choice_id in ids]
