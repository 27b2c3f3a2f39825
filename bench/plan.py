"""How much of each measure a run does (``--quick`` or the full run), and the
constants every section shares."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

# Enough learners that none comes near a realistic throttle history, and a rate
# the benchmark cannot reach: throttling must not shape the figures.
LEARNERS = 256
THROTTLE = "100000/hour"
# What every story the benchmark starts asks for.
ADVENTURE = {"target_language": "es", "native_language": "en", "level": "A2", "theme": "bench"}


@dataclass(frozen=True)
class Plan:
    """How much of each measure to run."""

    database: str
    latencies: dict[str, int]
    floor_samples: int
    pickup_samples: int
    api_concurrency: tuple[int, ...]
    api_requests: int
    api_warmup: int
    pipeline_learners: int
    pipeline_decisions: int
    throughput_entries: int
    live_samples: int
    instant_learners: int
    instant_decisions: int
    scaleout_workers: tuple[int, ...] = (1, 2, 4)
    scaleout_waves: int = 6  # entries per run: waves x the run's total concurrency
    limited_entries: int = 60  # the run with a provider limit below demand
    limited_per_second: int = 4
    # "pipeline", "instant", "floors", "level", "load" or "workers": that section alone
    only: str | None = None
    floors_samples: int = 30  # decisions whose pieces the floors section times, one at a time
    level_learners: int = 6  # simulated learners per level and story generator
    level_passages: int = 6  # passages each plays
    level_cost_samples: int = 100  # passages measured again, timed
    # The load section: learners signing up at once, then playing that many decisions each;
    # then learners reading and choosing for a while, each passage read that long.
    load_learners: int = 100
    load_decisions: int = 3
    sustained_learners: int = 300
    sustained_seconds: float = 120.0
    sustained_read_seconds: float = 20.0
    rescue_entries: int = 50  # entries in flight when the workers section kills a worker

    @classmethod
    def make(
        cls, *, quick: bool, database: str, latencies: dict[str, int], only: str | None = None
    ) -> Plan:
        if quick:
            plan = cls(
                database, latencies, 200, 30, (8, 32), 160, 32, 3, 2, 50, 30, 2, 2, (1, 2, 4), 2, 16
            )
            plan = replace(
                plan,
                floors_samples=10,
                level_learners=2,
                level_passages=3,
                level_cost_samples=20,
                load_decisions=1,
                sustained_learners=100,
                sustained_seconds=30.0,
                sustained_read_seconds=10.0,
                rescue_entries=16,
            )
        else:
            plan = cls(database, latencies, 1000, 200, (8, 32), 1500, 100, 6, 7, 500, 200, 4, 5)
        return replace(plan, only=only)


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


@contextmanager
def step(name: str) -> Iterator[None]:
    started = time.monotonic()
    log(f"{name} ...")
    yield
    log(f"{name}: done in {time.monotonic() - started:.1f}s")
