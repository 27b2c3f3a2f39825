"""The ``instant`` section: learners who read each entry before choosing, with
branches generated ahead (``PREGENERATE_BRANCHES``) off, then on, in the same
run (a worker and a web server of each mode).

Per mode: ``decision_to_complete_ms`` from sending a decision until the learner
has the next entry complete (the decision's answer when a branch was complete
by then), ``decision_request_ms``, LLM calls per entry a decision led to (the
stubs' call log), and the branches dropped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..client import create_adventure, decide
from ..database import clear_adventures_and_jobs, jobs_left, query
from ..fleet import Fleet
from ..plan import Plan, step
from ..processes import BenchError, Child, wait_until
from ..stats import (
    critical_path_ms,
    decision_to_complete_ms,
    distribution,
    format_latencies,
    per_adopted_entry,
)
from ..stories import choice_ids, completed


@dataclass
class Reader:
    """A learner of the ``instant`` measure: reads each entry, then chooses."""

    token: str
    adventure_id: str
    entry_id: str
    decisions_left: int
    choice: int  # which choice (index) the next decision takes
    read_until: float | None = None  # monotonic
    decided_at: float | None = None  # wall clock, like completed_at
    answered_at: float = 0.0

    @property
    def playing(self) -> bool:
        return bool(self.decisions_left or self.decided_at)


def _choose(port: int, reader: Reader) -> float:
    """The reader's next choice (taken in turn), sent now; ms the request took."""
    choices = choice_ids(reader.entry_id)
    choice_id = choices[reader.choice % len(choices)]
    reader.choice += 1
    reader.decided_at = time.time()
    next_id = decide(port, reader.token, reader.adventure_id, reader.entry_id, choice_id)
    reader.answered_at = time.time()
    reader.entry_id = next_id
    reader.read_until = None
    reader.decisions_left -= 1
    return (reader.answered_at - reader.decided_at) * 1000


def read_and_choose(
    port: int,
    tokens: list[str],
    *,
    decisions: int,
    read_seconds: float,
    worker: Child,
    timeout: float,
) -> tuple[list[float], list[float]]:
    """Each learner starts a story; once an entry is complete they read it for
    ``read_seconds``, then choose (choices taken in turn, so not always the
    first): ms from sending each decision until the learner has the next entry
    complete (``decision_to_complete_ms``), and ms of each decision request."""
    readers = []
    for index, token in enumerate(tokens):
        adventure = create_adventure(port, token)
        first = adventure["entries"][0]["id"]
        readers.append(Reader(token, adventure["id"], first, decisions, choice=index))
    samples: list[float] = []
    requests: list[float] = []
    deadline = time.monotonic() + timeout
    while any(reader.playing for reader in readers):
        worker.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"instant: stories not finished after {timeout:.0f}s")
        waiting = {reader.entry_id: reader for reader in readers if reader.playing}
        for entry_id, completed_at in completed(waiting).items():
            reader = waiting[entry_id]
            if reader.decided_at is not None:
                samples.append(
                    decision_to_complete_ms(reader.decided_at, reader.answered_at, completed_at)
                )
                reader.decided_at = None
            if not reader.decisions_left:
                continue
            if reader.read_until is None:
                reader.read_until = time.monotonic() + read_seconds
            if time.monotonic() >= reader.read_until:
                requests.append(_choose(port, reader))
        time.sleep(0.01)
    return samples, requests


def jobs_drained(worker: Child, timeout: float) -> None:
    """Every job has ended (branches still running after the last decision too)."""

    def drained() -> bool:
        worker.check_alive()
        return jobs_left() == 0

    wait_until(drained, timeout=timeout, what="the queue to drain")


def _mode(
    plan: Plan, fleet: Fleet, mode: str, learners: list[str], read_seconds: float, workdir: Path
) -> dict[str, Any]:
    """One mode of pre-generation: its worker and web server, its learners' play."""
    from django.conf import settings

    critical = critical_path_ms(plan.latencies)
    calls_log = workdir / f"calls-{mode}.log"
    worker = fleet.start(
        "worker",
        STUB_LATENCY_MS=format_latencies(plan.latencies),
        STUB_CALL_LOG=str(calls_log),
        PREGENERATE_BRANCHES=mode,
        PREGENERATE_DAILY_CAP="100000",
    )
    # The web server too: a decision adopting a complete branch queues that
    # entry's own branches.
    web = fleet.start("web", PREGENERATE_BRANCHES=mode, PREGENERATE_DAILY_CAP="100000")
    with step(
        f"instant, pre-generation {mode}: {len(learners)} learners, "
        f"{plan.instant_decisions} decisions each, {read_seconds:.1f}s reading"
    ):
        ms, request_ms = read_and_choose(
            web.port,
            learners,
            decisions=min(plan.instant_decisions, settings.STORY_LENGTH - 1),
            read_seconds=read_seconds,
            worker=worker,
            timeout=60 + 3 * plan.instant_decisions * (critical / 1000 + read_seconds),
        )
        jobs_drained(worker, timeout=60 + 10 * critical / 1000)
    generations = calls_log.read_text().split().count("generate")
    [(dropped,)] = query("SELECT count(*) FROM adventures_droppedbranch")
    fleet.stop(worker, web)
    clear_adventures_and_jobs()
    return {
        "decision_to_complete_ms": distribution(ms),
        "decision_request_ms": distribution(request_ms),
        "llm_calls_per_adopted_entry": per_adopted_entry(generations, len(learners), len(ms)),
        "branches_dropped": dropped,
    }


def measure(plan: Plan, fleet: Fleet, tokens: list[str], workdir: Path) -> dict[str, Any]:
    """The ``instant`` figures (no worker may be running when it starts)."""
    # Learners read each entry before choosing; long enough for its branches
    # to be generated (one wave of the worker's slots per entry at most), as a
    # reader's tens of seconds would be.
    read_seconds = 1.5 + 2.5 * critical_path_ms(plan.latencies) / 1000
    instant: dict[str, Any] = {
        "learners": plan.instant_learners,
        "decisions": plan.instant_learners * plan.instant_decisions,
        "read_seconds": round(read_seconds, 2),
    }
    tokens = tokens[-2 * plan.instant_learners :]
    for index, mode in enumerate(("off", "on")):
        learners = tokens[index * plan.instant_learners :][: plan.instant_learners]
        instant[f"pregenerate_{mode}"] = _mode(plan, fleet, mode, learners, read_seconds, workdir)
    return instant
