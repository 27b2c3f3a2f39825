"""The ``pipeline`` section: how long a learner waits for the next entry.

A few learners play at once, each choosing as soon as an entry is complete,
the stub providers waiting their ``--latencies``: ``entry_ms`` from sending a
decision to the next entry's ``completed_at``, against the critical path of the
simulated latencies; ``overhead_ms_p50`` what the product adds to them, and
``overhead_stages_ms_p50`` where that goes (see ``overhead_stages``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..client import create_adventure, decide
from ..database import commit_timestamps_on, event_time, query
from ..plan import Plan, step
from ..processes import BenchError, Child
from ..stats import critical_path_ms, distribution, format_latencies, ratio
from ..stories import choice_ids, completed


@dataclass
class Story:
    token: str
    adventure_id: str
    entry_id: str | None
    decided_at: float | None = None  # wall clock, like the worker's completed_at
    decisions_left: int = 0


def _choose(port: int, story: Story, decided: dict[str, float]) -> None:
    """The story's first choice, sent now; the next entry is the one to wait for."""
    assert story.entry_id is not None
    choice_id = choice_ids(story.entry_id)[0]
    story.decided_at = time.time()
    next_id = decide(port, story.token, story.adventure_id, story.entry_id, choice_id)
    story.entry_id = next_id
    decided[next_id] = story.decided_at
    story.decisions_left -= 1


def play_stories(
    port: int, tokens: list[str], *, decisions: int, worker: Child, timeout: float
) -> tuple[list[float], dict[str, float]]:
    """Each learner starts a story, then chooses as soon as an entry is complete:
    ms from sending the decision to the next entry's ``completed_at``; and, per
    entry that followed a decision, when (wall clock) its decision was sent."""
    stories = []
    for token in tokens:
        adventure = create_adventure(port, token)
        first = adventure["entries"][0]["id"]
        stories.append(Story(token, adventure["id"], first, decisions_left=decisions))
    samples: list[float] = []
    decided: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while any(story.entry_id for story in stories):
        worker.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"stories not finished after {timeout:.0f}s")
        waiting = {story.entry_id: story for story in stories if story.entry_id}
        for entry_id, completed_at in completed(waiting).items():
            story = waiting[entry_id]
            if story.decided_at is not None:
                samples.append((completed_at - story.decided_at) * 1000)
            if story.decisions_left:
                _choose(port, story, decided)
            else:
                story.entry_id = None
        time.sleep(0.02)
    return samples, decided


STAGES = ("request", "pickup", "before_generation", "generation_to_last_step", "completion")


def overhead_stages(decided: dict[str, float], latencies: dict[str, int]) -> dict[str, float]:
    """Where ``pipeline.overhead_ms_p50`` goes: p50 per stage, ms, of the entries
    that followed a decision. The stages add up to the time from sending the
    decision to the entry's ``completed_at``, minus the simulated latencies.

    - ``request``: the decision sent → its transaction (the entry and its job)
      committed;
    - ``pickup``: that commit → the worker's fetch of the job committed;
    - ``before_generation``: the fetch → ``generated_at`` less the generator's
      latency (the entry's lock, starting it, the generator's own overhead, the
      level fit and recording the passage);
    - ``generation_to_last_step``: ``generated_at`` → the last of translate,
      annotate and voice recorded, minus the slowest of their latencies;
    - ``completion``: the last step recorded → ``completed_at``.
    """
    exact = commit_timestamps_on()
    rows = query(
        f"""
        SELECT EXTRACT(EPOCH FROM {event_time("deferred", exact=exact)}),
               EXTRACT(EPOCH FROM {event_time("started", exact=exact)}),
               EXTRACT(EPOCH FROM entry.generated_at),
               EXTRACT(EPOCH FROM GREATEST(entry.translated_at, entry.annotated_at,
                                           entry.voiced_at)),
               EXTRACT(EPOCH FROM entry.completed_at), entry.id::text
        FROM adventures_entry entry
        JOIN procrastinate_jobs job ON job.args->>'entry_id' = entry.id::text
        JOIN procrastinate_events deferred
          ON deferred.job_id = job.id AND deferred.type = 'deferred'
        JOIN procrastinate_events started
          ON started.job_id = job.id AND started.type = 'started'
        WHERE entry.id::text = ANY(%s)
        """,
        [list(decided)],
    )
    if not rows:
        return {}
    stages: dict[str, list[float]] = {name: [] for name in STAGES}
    others = max(latencies.get(step, 0) for step in ("translate", "annotate", "voice"))
    for *times, entry_id in rows:
        deferred, started, generated, last_step, completed_at = map(float, times)
        stages["request"].append(deferred - decided[entry_id])
        stages["pickup"].append(started - deferred)
        generation_began = generated - latencies.get("generate", 0) / 1000
        stages["before_generation"].append(generation_began - started)
        stages["generation_to_last_step"].append(last_step - generated - others / 1000)
        stages["completion"].append(completed_at - last_step)
    return {
        name: round(distribution([seconds * 1000 for seconds in values])["p50"], 1)
        for name, values in stages.items()
    }


def measure(plan: Plan, web: Child, worker: Child, tokens: list[str]) -> dict[str, Any]:
    """The ``pipeline`` figures, from ``plan.pipeline_learners`` stories on
    ``web`` and ``worker`` (started with the stub latencies)."""
    from django.conf import settings

    critical = critical_path_ms(plan.latencies)
    decisions = min(plan.pipeline_decisions, settings.STORY_LENGTH - 1)
    with step(
        f"pipeline ({format_latencies(plan.latencies)}): "
        f"{plan.pipeline_learners} stories, {decisions} decisions each"
    ):
        entry_ms, decided = play_stories(
            web.port,
            tokens[: plan.pipeline_learners],
            decisions=decisions,
            worker=worker,
            timeout=60 + 3 * (decisions + 1) * critical / 1000,
        )
    entry_dist = distribution(entry_ms)
    # Figured now: the stage split reads the entries and jobs, which the
    # sections after this one clear.
    return {
        "critical_path_ms": critical,
        "entry_ms": entry_dist,
        "overhead_ms_p50": round(entry_dist["p50"] - critical, 1),
        "overhead_stages_ms_p50": overhead_stages(decided, plan.latencies),
        "ratio_p50": ratio(entry_dist["p50"], critical, 3),
    }
