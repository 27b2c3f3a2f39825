"""The ``scaleout`` section: the simulated pipeline on 1, 2 and 4 worker
processes against the one database (``runs``), then 2 workers under a provider
limit (``PROVIDER_LIMITS``) below their demand (``limited``).

Each run queues its entries at once after a warm-up wave, and reports entries
per second, efficiency against the ideal, entries run twice, LLM calls per
entry (the stubs' call log), memory, connections and CPU of its workers.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import psutil
import psycopg

from ..database import clear_adventures_and_jobs, connections, conninfo, query
from ..fleet import Fleet
from ..plan import Plan, step
from ..processes import Child, MemorySampler
from ..stats import critical_path_ms, format_latencies, ratio
from .throughput import drain, queue_at_once


class GrantSampler:
    """Every grant of a provider's budget, as the database recorded it: the
    budget row keeps the last N grant times, and is read often enough (every
    ``interval`` s, well under a window) to see them all."""

    def __init__(self, provider: str, interval: float = 0.05) -> None:
        self.provider = provider
        self.interval = interval
        self.grants: set[float] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="grant-sampler", daemon=True)

    def _run(self) -> None:
        params = conninfo(os.environ["DATABASE_NAME"])
        with psycopg.connect(**params, autocommit=True) as connection:
            while True:
                row = connection.execute(
                    "SELECT ARRAY(SELECT EXTRACT(EPOCH FROM c)::float8 FROM unnest(calls) c) "
                    "FROM worker_providerbudget WHERE provider = %s",
                    [self.provider],
                ).fetchone()
                if row:
                    self.grants.update(row[0])
                if self._stop.wait(self.interval):
                    return

    def __enter__(self) -> GrantSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def most_in_any_window(times: list[float], window: float) -> int:
    """The most of ``times`` that fall in any closed interval ``window`` long."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, time_ in enumerate(ordered):
        while time_ - ordered[first] > window:
            first += 1
        most = max(most, last - first + 1)
    return most


def entries_run_twice() -> int:
    """Entries whose job was started more than once (a retry, a duplicate run)."""
    [(count,)] = query(
        """
        SELECT count(*) FROM (
            SELECT job.args->>'entry_id' FROM procrastinate_events event
            JOIN procrastinate_jobs job ON job.id = event.job_id
            WHERE event.type = 'started'
              AND job.task_name = 'adventures.generate_adventure_entry'
            GROUP BY 1 HAVING count(*) > 1
        ) twice
        """
    )
    return int(count)


def stub_calls(log: Path, step: str) -> int:
    return log.read_text().split().count(step) if log.exists() else 0


def cpu_seconds(children: list[Child]) -> float:
    total = 0.0
    for child in children:
        try:
            times = psutil.Process(child.pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def fleet_run(
    fleet: Fleet, *, workers: int, entries: int, critical: int, concurrency: int, **extra: str
) -> tuple[dict[str, Any], list[Child]]:
    """``entries`` queued at once for ``workers`` worker processes (``extra``:
    their environment, ``STUB_CALL_LOG`` included): the figures, and the
    workers (still running, for the caller to read their logs and stop)."""
    clear_adventures_and_jobs()
    connections_before = connections()
    started = fleet.workers(workers, **extra)
    total = workers * concurrency
    # A first wave to warm every worker up (its first annotation loads the
    # language's pipeline), not measured; the budget row is left as it was.
    # (No TRUNCATE while workers run: it would deadlock with their fetches.)
    warm = queue_at_once(total, theme="warm-up")
    drain(total, queued_at=warm, worker=started[0], timeout=300, theme="warm-up")
    calls_log = Path(extra["STUB_CALL_LOG"])
    calls_log.unlink(missing_ok=True)
    ideal = entries * critical / 1000 / total
    psutil.cpu_percent(None)  # starts the machine-wide measure
    cpu_before = cpu_seconds(started)
    with MemorySampler({f"worker{i}": w for i, w in enumerate(started)}) as memory:
        queued_at = queue_at_once(entries)
        seconds = drain(entries, queued_at=queued_at, worker=started[0], timeout=120 + 6 * ideal)
    machine_cpu = psutil.cpu_percent(None)
    cores = (cpu_seconds(started) - cpu_before) / seconds
    figures = {
        "workers": workers,
        "concurrency": total,
        "entries": entries,
        "seconds": round(seconds, 2),
        "ideal_seconds": round(ideal, 2),
        "entries_per_second": round(entries / seconds, 2),
        "efficiency": round(ideal / seconds, 3),
        "entries_run_twice": entries_run_twice(),
        "llm_calls_per_entry": round(stub_calls(calls_log, "generate") / entries, 2),
        "worker_rss_mb": [memory.peak_mb(f"worker{i}") for i in range(workers)],
        "connections_per_worker": round((connections() - connections_before) / workers, 1),
        "workers_cpu_cores": round(cores, 2),
        "machine_cpu_percent": machine_cpu,
        "queued_at": queued_at,
    }
    return figures, started


def runs(plan: Plan, fleet: Fleet, workdir: Path, concurrency: int) -> list[dict[str, Any]]:
    """The pipeline on each of ``plan.scaleout_workers`` worker processes."""
    critical = critical_path_ms(plan.latencies)
    figures_per_run = []
    for workers in plan.scaleout_workers:
        entries = plan.scaleout_waves * workers * concurrency
        with step(f"scaleout: {workers} worker(s), {entries} entries queued at once"):
            figures, started = fleet_run(
                fleet,
                workers=workers,
                entries=entries,
                critical=critical,
                concurrency=concurrency,
                STUB_CALL_LOG=str(workdir / f"calls-{workers}.log"),
                STUB_LATENCY_MS=format_latencies(plan.latencies),
            )
            fleet.stop(*started)
        figures.pop("queued_at")
        figures_per_run.append(figures)
    base = figures_per_run[0]["entries_per_second"]
    for figures in figures_per_run:
        figures["speedup"] = ratio(figures["entries_per_second"], base)
    return figures_per_run


def limited(plan: Plan, fleet: Fleet, workdir: Path, concurrency: int) -> dict[str, Any]:
    """2 workers, generation limited below their demand: what the limit lets through."""
    critical = critical_path_ms(plan.latencies)
    limit, workers = plan.limited_per_second, 2
    demand = workers * concurrency / (critical / 1000)
    calls_log = workdir / "calls-limited.log"
    with (
        step(
            f"scaleout: {workers} workers, generation limited to {limit}/s "
            f"(demand about {demand:.0f}/s), {plan.limited_entries} entries"
        ),
        GrantSampler("anthropic") as grants,
    ):
        figures, started = fleet_run(
            fleet,
            workers=workers,
            entries=plan.limited_entries,
            critical=critical,
            concurrency=concurrency,
            STUB_CALL_LOG=str(calls_log),
            STUB_LATENCY_MS=format_latencies(plan.latencies),
            PROVIDER_LIMITS=f"anthropic={limit}/s",
        )
        logs = " ".join(child.log.read_text(errors="replace") for child in started)
        fleet.stop(*started)
    measured_from = figures.pop("queued_at")  # the warm-up's grants left out
    times = sorted(t for t in grants.grants if t >= measured_from)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    return {
        "limit": f"anthropic={limit}/s",
        "limit_per_minute": limit * 60,
        "demand_per_minute": round(demand * 60),
        "grants_seen": len(times),
        "llm_calls": stub_calls(calls_log, "generate"),
        # Calls per window, averaged over the windows that saw any (span + 1).
        "achieved_per_minute": round(len(times) / (span + 1) * 60, 1) if times else None,
        "most_in_any_window": most_in_any_window(times, 1.0),
        "window_seconds": 1,
        "http_429_seen": logs.count("HTTP 429"),
        "entries_per_second": figures["entries_per_second"],
        "entries_run_twice": figures["entries_run_twice"],
        "llm_calls_per_entry": figures["llm_calls_per_entry"],
    }


def measure(plan: Plan, fleet: Fleet, workdir: Path, concurrency: int) -> dict[str, Any]:
    """The ``scaleout`` figures (no worker may be running when it starts)."""
    return {
        "latencies": format_latencies(plan.latencies),
        "concurrency_per_worker": concurrency,
        "runs": runs(plan, fleet, workdir, concurrency),
        "limited": limited(plan, fleet, workdir, concurrency),
    }
