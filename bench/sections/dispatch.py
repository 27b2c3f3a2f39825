"""The ``dispatch`` section: how long a queued job waits for the worker.

- ``floor_notify_ms``: a bare ``NOTIFY`` from one connection until another
  receives it, the least a job's wake-up can cost;
- ``pickup_ms``: one adventure at a time, the worker idle, stubs without
  latency: from the commit of ``POST /api/adventures`` to the commit of the
  worker's fetch of the job, right before it calls the task.
"""

from __future__ import annotations

import os
import time
from functools import partial
from typing import Any

import psycopg

from ..client import create_adventure
from ..database import commit_timestamps_on, conninfo, event_time, query
from ..plan import log
from ..processes import BenchError, wait_until
from ..stats import distribution, ratio


def notify_floor(samples: int, *, warmup: int = 20) -> list[float]:
    """Round trips (ms) of a bare NOTIFY, from sending it to the listener getting it."""
    database = os.environ["DATABASE_NAME"]
    with (
        psycopg.connect(**conninfo(database), autocommit=True) as listener,
        psycopg.connect(**conninfo(database), autocommit=True) as sender,
    ):
        listener.execute("LISTEN bench_floor")
        times = []
        for index in range(warmup + samples):
            started = time.perf_counter()
            sender.execute("NOTIFY bench_floor, 'ping'")
            received = list(listener.notifies(timeout=5, stop_after=1))
            elapsed = (time.perf_counter() - started) * 1000
            if not received:
                raise BenchError("a NOTIFY did not arrive within 5 s")
            if index >= warmup:
                times.append(elapsed)
    return times


def _job_finished(entry_id: str) -> bool:
    rows = query("SELECT status FROM procrastinate_jobs WHERE args->>'entry_id' = %s", [entry_id])
    if rows and rows[0][0] in ("failed", "cancelled", "aborted"):
        raise BenchError(f"the job of entry {entry_id} ended {rows[0][0]}")
    return bool(rows) and rows[0][0] == "succeeded"


def pickups(port: int, tokens: list[str], samples: int, *, warmup: int = 5) -> list[float]:
    """One adventure at a time, the worker idle in between: for each, ms from the
    commit of the request's transaction to the commit of the worker's fetch,
    right before the worker calls the task; both stamped by PostgreSQL.

    Procrastinate's own event times are ``now()``, the *start* of a transaction:
    the ``deferred`` event would add the rest of the request's transaction
    (a few ms) to the figure. The commit time of the transaction that wrote each
    event (``pg_xact_commit_timestamp(xmin)``) is exact; it needs
    ``track_commit_timestamp``, which the run's own server has. On a server
    without it (``DATABASE_URL``) the event times are used, and the figure is an
    upper bound.
    """
    entry_ids = []
    for index in range(warmup + samples):
        adventure = create_adventure(port, tokens[index % len(tokens)])
        entry_id = adventure["entries"][0]["id"]
        wait_until(partial(_job_finished, entry_id), timeout=30, what=f"the job of {entry_id}")
        if index >= warmup:
            entry_ids.append(entry_id)
    exact = commit_timestamps_on()
    if not exact:
        log("track_commit_timestamp is off: pickup_ms counts from the request's BEGIN")
    elapsed = f"{event_time('started', exact=exact)} - {event_time('deferred', exact=exact)}"
    rows = query(
        f"""
        SELECT EXTRACT(EPOCH FROM ({elapsed})) * 1000
        FROM procrastinate_jobs job
        JOIN procrastinate_events deferred
          ON deferred.job_id = job.id AND deferred.type = 'deferred'
        JOIN procrastinate_events started
          ON started.job_id = job.id AND started.type = 'started'
        WHERE job.args->>'entry_id' = ANY(%s)
        """,
        [entry_ids],
    )
    if len(rows) != len(entry_ids):
        raise BenchError(f"found events for {len(rows)} of {len(entry_ids)} jobs")
    return [float(ms) for (ms,) in rows]


def figures(floor: list[float], pickup: list[float]) -> dict[str, Any]:
    pickup_dist = distribution(pickup)
    return {
        "floor_notify_ms": distribution(floor, 3),
        "pickup_ms": pickup_dist,
        "ratio_p50": ratio(pickup_dist["p50"], distribution(floor)["p50"], 1),
    }
