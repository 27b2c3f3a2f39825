"""The ``floors`` section: what each piece of a learner's wait costs on its own.

``pipeline.overhead_ms_p50`` is measured with several stories running at once
on two cores. Here one decision at a time, with the stub providers answering
at once and nothing else running, and each piece taken from what the product
records:

- ``decision_request``: the decision sent over HTTP to the web server → its
  transaction committed (the commit timestamp of its job's ``deferred``
  event; without ``track_commit_timestamp``, until the answer: an upper bound);
- ``pickup``: that commit → the worker's fetch, from the ``dispatch`` measure;
- then the next entry's pipeline, run in this process through its public entry
  point, ``adventures.pipeline.run_entry_pipeline`` (what the worker's task
  calls), its pieces read from the entry's timestamps (one clock: this
  process writes them):

  - ``start``: the call → the entry's ``generating`` event written (the
    entry's lock, reading it, starting it);
  - ``generation``: → ``generated_at`` (the generator, the level fit, the
    passage checked and recorded);
  - ``steps``: → the last of ``translated_at``, ``annotated_at`` and
    ``voiced_at`` (side by side: only the slowest is on the wait);
  - ``completion``: → the call returned (the entry completed, its lock released).

Their sum, ``critical_sum_ms``, is the least ``overhead_ms_p50`` can be on this
machine as the code stands: a change that lowers the overhead should lower a
floor here too. ``overlapped_ms_p50``: ``translate``, ``annotate`` and
``voice`` each from ``generated_at`` to its own timestamp (the slowest of them
is ``steps``).

What it cannot tell apart from outside (only the pipeline's timestamps are
public): the generator's call from the level fit and from recording the
passage; a step's provider call from recording its result (the voice from
storing its audio); work that overlaps another piece (a step started while the
passage is recorded counts in ``steps``). The Procrastinate task around
``run_entry_pipeline`` is not run here: its cost is in ``pickup`` and in
``pipeline``'s ``overhead_stages_ms_p50``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from ..client import choices, create_adventure, decide
from ..database import commit_timestamps_on, event_time, query
from ..plan import Plan, step
from ..stats import distribution

# In the order the learner waits for them.
CRITICAL = ("decision_request", "pickup", "start", "generation", "steps", "completion")
OVERLAPPED = ("translate", "annotate", "voice")
# What the pipeline records on the entry: the generation, then each of OVERLAPPED.
TIMESTAMPS = ("generated_at", "translated_at", "annotated_at", "voiced_at")

# (adventure id, a complete entry's id) -> (the next entry's id, when the
# decision was sent, when it was answered): wall clock, seconds.
Decide = Callable[[UUID, UUID], tuple[UUID, float, float]]


@dataclass(frozen=True)
class Run:
    entry_id: UUID  # the entry the decision led to
    sent: float
    answered: float
    began: float  # run_entry_pipeline called
    ended: float  # and returned


def measure(
    adventures: list[tuple[UUID, UUID, UUID]],
    decide: Decide,
    *,
    pickup_ms: float | None,
    warmup: int = 0,
) -> dict[str, Any]:
    """``adventures``: (adventure, its first entry, its user), entries still
    pending, no worker running. For each: the first entry generated (not
    timed), a decision on it (``decide``), then the next entry's pipeline.
    The first ``warmup`` are not counted (this process loads the annotator's
    and the level fit's data on its first passage)."""
    runs = asyncio.run(_play(adventures, decide))[warmup:]
    samples = _pieces(runs)
    pieces = {name: distribution(values)["p50"] for name, values in samples.items()}
    if pickup_ms is not None:
        pieces["pickup"] = pickup_ms
    critical = {name: pieces[name] for name in CRITICAL if name in pieces}
    return {
        "samples": len(runs),
        "critical_ms_p50": critical,
        "critical_sum_ms": round(sum(critical.values()), 2),
        "overlapped_ms_p50": {name: pieces[name] for name in OVERLAPPED},
    }


async def _play(adventures: list[tuple[UUID, UUID, UUID]], decide: Decide) -> list[Run]:
    from adventures.pipeline import run_entry_pipeline

    runs = []
    for adventure_id, entry_id, user_id in adventures:
        await run_entry_pipeline(adventure_id=adventure_id, entry_id=entry_id, user_id=user_id)
        next_id, sent, answered = await asyncio.to_thread(decide, adventure_id, entry_id)
        began = time.time()
        await run_entry_pipeline(adventure_id=adventure_id, entry_id=next_id, user_id=user_id)
        runs.append(Run(next_id, sent, answered, began, time.time()))
    return runs


def _pieces(runs: list[Run]) -> dict[str, list[float]]:
    """Each run's pieces (ms), from the timestamps its entry recorded."""
    from django.db.models import Min

    from adventures.models import Entry, EntryEvent

    ids = [run.entry_id for run in runs]
    complete = Entry.objects.filter(id__in=ids, status=Entry.Status.COMPLETE)
    recorded = {
        entry_id: [_seconds(at) for at in times]
        for entry_id, *times in complete.values_list("id", *TIMESTAMPS)
    }
    generating = dict(
        EntryEvent.objects.filter(entry_id__in=ids, status=Entry.Status.GENERATING)
        .values("entry_id")
        .annotate(at=Min("created_at"))
        .values_list("entry_id", "at")
    )
    committed = _decisions_committed(ids)
    samples: dict[str, list[float]] = {name: [] for name in (*CRITICAL, *OVERLAPPED)}
    samples.pop("pickup")
    for run in runs:
        if run.entry_id not in recorded:
            raise RuntimeError(f"entry {run.entry_id} is not complete after its pipeline")
        generated, *done = recorded[run.entry_id]
        steps = dict(zip(OVERLAPPED, done, strict=True))
        started = _seconds(generating[run.entry_id])
        decided = committed.get(run.entry_id, run.answered)
        for name, seconds in (
            ("decision_request", decided - run.sent),
            ("start", started - run.began),
            ("generation", generated - started),
            ("steps", max(steps.values()) - generated),
            ("completion", run.ended - max(steps.values())),
            *((name, at - generated) for name, at in steps.items()),
        ):
            samples[name].append(seconds * 1000)
    return samples


def _seconds(at: datetime | None) -> float:
    if at is None:
        raise RuntimeError("a complete entry without one of its timestamps")
    return at.timestamp()


def _decisions_committed(entry_ids: list[UUID]) -> dict[UUID, float]:
    """When the transaction that queued each entry's job committed (wall clock,
    s); nothing when the server does not track commit timestamps."""
    if not commit_timestamps_on():
        return {}
    rows = query(
        f"""
        SELECT job.args->>'entry_id', EXTRACT(EPOCH FROM {event_time("deferred", exact=True)})
        FROM procrastinate_jobs job
        JOIN procrastinate_events deferred
          ON deferred.job_id = job.id AND deferred.type = 'deferred'
        WHERE job.args->>'entry_id' = ANY(%s)
        """,
        [[str(entry_id) for entry_id in entry_ids]],
    )
    return {UUID(entry_id): float(at) for entry_id, at in rows}


def play(plan: Plan, port: int, tokens: list[str], pickup_ms: float) -> dict[str, Any]:
    """The section in a run: stories started and decisions sent over HTTP to
    the web server on ``port``, no worker running."""
    from adventures.models import Adventure

    warmup = 3
    with step(f"floors: {plan.floors_samples} decisions, each piece of the next entry alone"):
        started = [
            create_adventure(port, tokens[index % len(tokens)])
            for index in range(warmup + plan.floors_samples)
        ]
        token_of = {UUID(a["id"]): tokens[index % len(tokens)] for index, a in enumerate(started)}
        users = dict(Adventure.objects.filter(id__in=token_of).values_list("id", "user_id"))
        adventures = [
            (UUID(a["id"]), UUID(a["entries"][0]["id"]), users[UUID(a["id"])]) for a in started
        ]

        def decide_over_http(adventure_id: UUID, entry_id: UUID) -> tuple[UUID, float, float]:
            token = token_of[adventure_id]
            first_choice = choices(port, token, str(adventure_id), str(entry_id))[0]
            sent = time.time()
            next_id = decide(port, token, str(adventure_id), str(entry_id), first_choice)
            return UUID(next_id), sent, time.time()

        return measure(adventures, decide_over_http, pickup_ms=pickup_ms, warmup=warmup)
