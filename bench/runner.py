"""The benchmark run: set up, measure each figure, clean up.

Order of a run (each step bounded in time):

1. a fresh database (``--database``, dropped first if an earlier run left it),
   migrated by ``manage.py migrate``, with a few hundred learners. Without
   ``DATABASE_URL`` it lives on an embedded PostgreSQL server of its own, in the
   run's temporary folder, with ``track_commit_timestamp`` on (see ``pickups``);
2. dispatch floor: bare NOTIFY round trips between two connections;
3. api: POST /api/adventures under load, in alternating rounds, from two
   gunicorns: one under ``bench.settings_nodefer`` (the same code, with a
   connector behind ``defer`` that keeps no job: ``bench.nodefer``), one as in
   production; no worker runs meanwhile, so none takes CPU from the servers;
4. dispatch: one adventure at a time, worker idle, stub latency zero;
5. pipeline: learners play through their stories, stub latencies on;
6. throughput: many entries committed at once, memory sampled meanwhile;
7. live: status events through ``GET /api/adventures/{id}/events`` on one web
   process, from the commit to the client, with 1 and then 200 streams open
   (``bench/live.py``); the worker is stopped first;
8. instant: learners who read each entry before choosing, with branches
   generated ahead (``PREGENERATE_BRANCHES``) off, then on, in the same run;
9. scaleout: the same on 1, 2 and 4 worker processes against the one database,
   then 2 workers under a provider limit (``PROVIDER_LIMITS``) below demand;
10. everything started is stopped (that server included), the database
   dropped, temporary files removed.

``--only pipeline`` (``Plan.only``) runs 1, then 5 alone (one gunicorn, one
worker), then 10.

The bench process itself runs Django against the benchmark database (to create
learners and tokens, queue the throughput batch, and read timestamps), with the
same environment as its children.
"""

from __future__ import annotations

import http.client
import itertools
import json
import logging
import os
import platform
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import psutil
import psycopg
from psycopg import sql

from . import floors, live
from .processes import (
    ROOT,
    BenchError,
    Child,
    MemorySampler,
    free_port,
    start_web,
    start_worker,
    wait_until,
)
from .stats import (
    critical_path_ms,
    decision_to_complete_ms,
    distribution,
    format_latencies,
    per_adopted_entry,
    ratio,
)

# Enough learners that none comes near a realistic throttle history, and a rate
# the benchmark cannot reach: throttling must not shape the figures.
LEARNERS = 256
THROTTLE = "100000/hour"
API_ROUNDS = 4
# Event streams open at once in the live section (issue 14's target: 200 on one process).
LIVE_STREAMS = 200
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
    only: str | None = None  # "pipeline", "instant" or "floors": that section alone (``--only``)
    floors_samples: int = 30  # decisions whose pieces the floors section times, one at a time

    @classmethod
    def make(
        cls, *, quick: bool, database: str, latencies: dict[str, int], only: str | None = None
    ) -> Plan:
        if quick:
            plan = cls(
                database, latencies, 200, 30, (8, 32), 160, 32, 3, 2, 50, 30, 2, 2, (1, 2, 4), 2, 16
            )
            plan = replace(plan, floors_samples=10)
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


# --- Environment and database ----------------------------------------------------


def environment(plan: Plan, workdir: Path) -> dict[str, str]:
    """The environment of the bench process and of every child it starts."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("BENCH_") and key not in {"DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="langlearn.settings",
        DATABASE_NAME=plan.database,
        # As in production: no query log, no debug pages.
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        STUB_GENERATION="true",
        STUB_LATENCY_MS="",
        STORAGE_BACKEND="local",
        MEDIA_ROOT=str(workdir / "media"),
        THROTTLE_ADVENTURE_CREATE=THROTTLE,
        PYTHONUNBUFFERED="1",
    )
    if not env.get("DATABASE_URL"):
        # An embedded server of the run's own (settings put it in DATA_DIR/postgres).
        env["LANGLEARN_DATA_DIR"] = str(workdir / "data")
    return env


def conninfo(dbname: str) -> dict[str, Any]:
    """psycopg connection parameters for ``dbname`` on the configured server."""
    from django.db import connection

    params = connection.get_connection_params()  # starts the embedded server if needed
    keep = {"host", "port", "user", "password", "sslmode", "sslrootcert", "connect_timeout"}
    return {key: value for key, value in params.items() if key in keep} | {"dbname": dbname}


def admin_database() -> str:
    """A database to connect to while creating or dropping the benchmark's."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "postgres"
    import dj_database_url

    return dj_database_url.parse(url)["NAME"] or "postgres"


def drop_database(name: str, *, create: bool = False) -> None:
    """Drop ``name`` (closing every connection to it); create it afresh if asked."""
    from django.db import connections

    connections.close_all()
    with psycopg.connect(**conninfo(admin_database()), autocommit=True) as admin:
        database = sql.Identifier(name)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        if create:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(database))


def embedded_data_dir() -> Path | None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "langlearn.embedded_pg":
        return None
    return Path(settings.EMBEDDED_DB_DIR)


def track_commit_timestamps(data_dir: Path) -> None:
    """Have the run's own server record when each transaction commits.

    The setting needs a restart.
    """
    from langlearn.embedded_pg import ensure_running, stop

    with psycopg.connect(**conninfo("postgres"), autocommit=True) as admin:
        admin.execute("ALTER SYSTEM SET track_commit_timestamp = on")
    stop(data_dir)
    ensure_running(data_dir, recheck=True)


def commit_timestamps_on() -> bool:
    [(value,)] = query("SHOW track_commit_timestamp")
    return value == "on"


def migrate(env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode:
        raise BenchError(f"manage.py migrate failed:\n{result.stdout}{result.stderr}")


def query(sql_text: str, params: list[Any] | tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql_text, params)
        return cursor.fetchall() if cursor.description else []


def clear_adventures_and_jobs() -> None:
    query("TRUNCATE adventures_adventure, procrastinate_jobs, procrastinate_workers CASCADE")


def make_learners(count: int) -> list[str]:
    """``count`` learners (cheap unusable passwords); their access tokens."""
    from django.contrib.auth.hashers import make_password
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User

    users = User.objects.bulk_create(
        User(username=f"bench-{i:04d}", password=make_password(None), native_language="en")
        for i in range(count)
    )
    return [str(AccessToken.for_user(user)) for user in users]


def worker_listening(count: int = 1) -> bool:
    """``count`` workers have registered themselves and their LISTEN connections are up."""
    [(workers, listeners)] = query(
        "SELECT (SELECT count(*) FROM procrastinate_workers), "
        "(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND query LIKE 'LISTEN %%procrastinate%%')"
    )
    return workers >= count and listeners >= count


# --- HTTP --------------------------------------------------------------------------


def call(
    port: int, method: str, path: str, token: str, body: dict[str, Any] | None = None
) -> tuple[int, Any]:
    """One request on a fresh connection (for the paced, single requests)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            method,
            path,
            body=json.dumps(body) if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    try:
        return response.status, json.loads(data)
    except ValueError:
        return response.status, data[:500]


def create_adventure(port: int, token: str) -> dict[str, Any]:
    status, body = call(port, "POST", "/api/adventures", token, ADVENTURE)
    if status != 201:
        raise BenchError(f"POST /api/adventures answered {status}: {body!r}")
    return body


def post_load(
    port: int, tokens: list[str], *, concurrency: int, requests: int, warmup: int
) -> list[float]:
    """``warmup + requests`` POST /api/adventures from ``concurrency`` clients,
    each on its own keep-alive connection; the latencies (ms) after the warm-up."""
    body = json.dumps(ADVENTURE).encode()
    counter = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []
    stop = threading.Event()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while not stop.is_set() and not errors:
                index = next(counter)
                if index >= warmup + requests:
                    return
                headers = {
                    "Authorization": f"Bearer {tokens[index % len(tokens)]}",
                    "Content-Type": "application/json",
                }
                started = time.perf_counter()
                connection.request("POST", "/api/adventures", body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                elapsed = (time.perf_counter() - started) * 1000
                if response.status != 201:
                    errors.append(f"answered {response.status}: {data[:300]!r}")
                elif index >= warmup:
                    latencies.append(elapsed)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stop.set()
    if errors:
        raise BenchError(f"POST /api/adventures under load failed: {errors[0]}")
    return latencies


# --- Measures ------------------------------------------------------------------------


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

        def finished(entry_id: str = entry_id) -> bool:
            rows = query(
                "SELECT status FROM procrastinate_jobs WHERE args->>'entry_id' = %s", [entry_id]
            )
            if rows and rows[0][0] in ("failed", "cancelled", "aborted"):
                raise BenchError(f"the job of entry {entry_id} ended {rows[0][0]}")
            return bool(rows) and rows[0][0] == "succeeded"

        wait_until(finished, timeout=30, what=f"the job of entry {entry_id}")
        if index >= warmup:
            entry_ids.append(entry_id)
    if commit_timestamps_on():
        elapsed = "pg_xact_commit_timestamp(started.xmin) - pg_xact_commit_timestamp(deferred.xmin)"
    else:
        log("track_commit_timestamp is off: pickup_ms counts from the request's BEGIN")
        elapsed = "started.at - deferred.at"
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


@dataclass
class Story:
    token: str
    adventure_id: str
    entry_id: str | None
    decided_at: float | None = None  # wall clock, like the worker's completed_at
    decisions_left: int = 0


def play_stories(
    port: int, tokens: list[str], *, decisions: int, worker: Child, timeout: float
) -> tuple[list[float], dict[str, float]]:
    """Each learner starts a story, then chooses as soon as an entry is complete:
    ms from sending the decision to the next entry's ``completed_at``; and, per
    entry that followed a decision, when (wall clock) its decision was sent."""
    from adventures.models import Choice, Entry

    stories = []
    for token in tokens:
        adventure = create_adventure(port, token)
        stories.append(
            Story(token, adventure["id"], adventure["entries"][0]["id"], decisions_left=decisions)
        )
    samples: list[float] = []
    decided: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while any(story.entry_id for story in stories):
        worker.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"stories not finished after {timeout:.0f}s")
        waiting = {story.entry_id: story for story in stories if story.entry_id}
        rows = Entry.objects.filter(id__in=waiting).values_list(
            "id", "status", "completed_at", "error_detail"
        )
        for entry_id, status, completed_at, error in rows:
            if status == Entry.Status.ERROR:
                raise BenchError(f"entry {entry_id} failed: {error}")
            if status != Entry.Status.COMPLETE:
                continue
            story = waiting[str(entry_id)]
            if story.decided_at is not None and completed_at is not None:
                samples.append((completed_at.timestamp() - story.decided_at) * 1000)
            if not story.decisions_left:
                story.entry_id = None
                continue
            choice_id = (
                Choice.objects.filter(entry_id=entry_id)
                .order_by("index")
                .values_list("id", flat=True)
                .first()
            )
            story.decided_at = time.time()
            status_code, body = call(
                port,
                "POST",
                f"/api/adventures/{story.adventure_id}/decisions",
                story.token,
                {"entry_id": str(entry_id), "choice_id": str(choice_id)},
            )
            if status_code != 201:
                raise BenchError(f"POST decisions answered {status_code}: {body!r}")
            story.entry_id = body["next_entry"]["id"]
            decided[body["next_entry"]["id"]] = story.decided_at
            story.decisions_left -= 1
        time.sleep(0.02)
    return samples, decided


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
    from adventures.models import Choice, Entry

    readers = []
    for index, token in enumerate(tokens):
        adventure = create_adventure(port, token)
        entry_id = adventure["entries"][0]["id"]
        readers.append(Reader(token, adventure["id"], entry_id, decisions, choice=index))
    samples: list[float] = []
    requests: list[float] = []
    deadline = time.monotonic() + timeout
    while any(reader.decisions_left or reader.decided_at for reader in readers):
        worker.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"instant: stories not finished after {timeout:.0f}s")
        waiting = {r.entry_id: r for r in readers if r.decisions_left or r.decided_at}
        rows = Entry.objects.filter(id__in=waiting).values_list(
            "id", "status", "completed_at", "error_detail"
        )
        for entry_id, status, completed_at, error in rows:
            if status == Entry.Status.ERROR:
                raise BenchError(f"entry {entry_id} failed: {error}")
            if status != Entry.Status.COMPLETE:
                continue
            reader = waiting[str(entry_id)]
            if reader.decided_at is not None:
                assert completed_at is not None  # a complete entry has its time
                samples.append(
                    decision_to_complete_ms(
                        reader.decided_at, reader.answered_at, completed_at.timestamp()
                    )
                )
                reader.decided_at = None
            if not reader.decisions_left:
                continue
            if reader.read_until is None:
                reader.read_until = time.monotonic() + read_seconds
            if time.monotonic() < reader.read_until:
                continue
            choices = list(
                Choice.objects.filter(entry_id=entry_id)
                .order_by("index")
                .values_list("id", flat=True)
            )
            choice_id = choices[reader.choice % len(choices)]
            reader.choice += 1
            reader.decided_at = time.time()
            status_code, body = call(
                port,
                "POST",
                f"/api/adventures/{reader.adventure_id}/decisions",
                reader.token,
                {"entry_id": str(entry_id), "choice_id": str(choice_id)},
            )
            reader.answered_at = time.time()
            requests.append((reader.answered_at - reader.decided_at) * 1000)
            if status_code != 201:
                raise BenchError(f"POST decisions answered {status_code}: {body!r}")
            reader.entry_id = body["next_entry"]["id"]
            reader.read_until = None
            reader.decisions_left -= 1
        time.sleep(0.01)
    return samples, requests


def jobs_drained(worker: Child, timeout: float) -> None:
    """Every job has ended (branches still running after the last decision too)."""

    def drained() -> bool:
        worker.check_alive()
        [(left,)] = query(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
        )
        return left == 0

    wait_until(drained, timeout=timeout, what="the queue to drain")


def overhead_stages(decided: dict[str, float], latencies: dict[str, int]) -> dict[str, float]:
    """Where ``pipeline.overhead_ms_p50`` goes: p50 per stage, ms, of the entries
    that followed a decision. The stages add up to the time from sending the
    decision to the entry's ``completed_at``, minus the simulated latencies.

    - ``request``: the decision sent → its transaction (the entry and its job)
      committed;
    - ``pickup``: that commit → the worker's fetch of the job committed;
    - ``before_generation``: the fetch → ``generated_at`` less the generator's
      latency (the entry's lock, reading the request, the generator's own
      overhead, the level fit and recording the passage; ``entry_start``
      commits meanwhile);
    - ``generation_to_last_step``: ``generated_at`` → the last of translate,
      annotate and voice recorded, minus the slowest of their latencies (they
      start while the passage is recorded, so this is what their records and
      the rest of the slowest step take after it);
    - ``completion``: the last step recorded → ``completed_at``.
    """
    if commit_timestamps_on():
        deferred = "pg_xact_commit_timestamp(deferred.xmin)"
        started = "pg_xact_commit_timestamp(started.xmin)"
    else:
        deferred, started = "deferred.at", "started.at"
    rows = query(
        f"""
        SELECT EXTRACT(EPOCH FROM {deferred}), EXTRACT(EPOCH FROM {started}),
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
    stages: dict[str, list[float]] = {
        "request": [],
        "pickup": [],
        "before_generation": [],
        "generation_to_last_step": [],
        "completion": [],
    }
    others = max(latencies.get(step, 0) for step in ("translate", "annotate", "voice"))
    for deferred_at, started_at, generated, last_step, completed, entry_id in rows:
        deferred_at, started_at, generated, last_step, completed = map(
            float, (deferred_at, started_at, generated, last_step, completed)
        )
        stages["request"].append(deferred_at - decided[entry_id])
        stages["pickup"].append(started_at - deferred_at)
        generation_began = generated - latencies.get("generate", 0) / 1000
        stages["before_generation"].append(generation_began - started_at)
        stages["generation_to_last_step"].append(last_step - generated - others / 1000)
        stages["completion"].append(completed - last_step)
    if not rows:
        return {}
    return {
        name: round(distribution([seconds * 1000 for seconds in values])["p50"], 1)
        for name, values in stages.items()
    }


def queue_at_once(count: int, theme: str = "throughput") -> float:
    """Create ``count`` adventures (one entry each) in one transaction; return the
    wall-clock time right after the commit made all their jobs visible."""
    from django.db import transaction

    from accounts.models import User
    from adventures import services

    users = list(User.objects.order_by("username"))
    with transaction.atomic():
        for index in range(count):
            services.adventure_create(
                user=users[index % len(users)],
                target_language=ADVENTURE["target_language"],
                native_language=ADVENTURE["native_language"],
                theme=theme,
            )
    return time.time()


def drain(
    count: int, *, queued_at: float, worker: Child, timeout: float, theme: str = "throughput"
) -> float:
    """Seconds from ``queued_at`` until the last throughput entry completed."""
    from django.db.models import Count, Max, Q

    from adventures.models import Entry

    entries = Entry.objects.filter(adventure__theme=theme)
    deadline = time.monotonic() + timeout
    while True:
        worker.check_alive()
        figures = entries.aggregate(
            complete=Count("id", filter=Q(status=Entry.Status.COMPLETE)),
            failed=Count("id", filter=Q(status=Entry.Status.ERROR)),
            last=Max("completed_at"),
        )
        if figures["failed"]:
            raise BenchError(f"{figures['failed']} throughput entries failed; see {worker.log}")
        if figures["complete"] >= count:
            return figures["last"].timestamp() - queued_at
        if time.monotonic() > deadline:
            raise BenchError(
                f"only {figures['complete']} of {count} entries complete after {timeout:.0f}s"
            )
        time.sleep(0.05)


class GrantSampler:
    """Every grant of a provider's budget (``adventures/ratelimits.py``), as the
    database recorded it: the budget row keeps the last N grant times, and is
    read often enough (every ``interval`` s, well under a window) to see them all."""

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
                    "FROM adventures_providerbudget WHERE provider = %s",
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


def connections() -> int:
    """Client connections to the benchmark database, this one included."""
    [(count,)] = query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend'"
    )
    return int(count)


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
    start_fleet: Callable[..., list[Child]],
    stop_fleet: Callable[[list[Child]], None],
    *,
    workers: int,
    entries: int,
    critical: int,
    concurrency: int,
    calls_log: Path,
    **extra: str,
) -> tuple[dict[str, Any], list[Child]]:
    """``entries`` queued at once for ``workers`` worker processes: the figures,
    and the workers (still running, for the caller to read their logs and stop)."""
    clear_adventures_and_jobs()
    connections_before = connections()
    fleet = start_fleet(workers, STUB_CALL_LOG=str(calls_log), **extra)
    total = workers * concurrency
    # A first wave to warm every worker up (its first annotation loads the
    # language's pipeline), not measured; the budget row is left as it was.
    # (No TRUNCATE while workers run: it would deadlock with their fetches.)
    warm = queue_at_once(total, theme="warm-up")
    drain(total, queued_at=warm, worker=fleet[0], timeout=300, theme="warm-up")
    calls_log.unlink(missing_ok=True)
    ideal = entries * critical / 1000 / total
    psutil.cpu_percent(None)  # starts the machine-wide measure
    cpu_before = cpu_seconds(fleet)
    with MemorySampler({f"worker{i}": w for i, w in enumerate(fleet)}) as memory:
        queued_at = queue_at_once(entries)
        seconds = drain(entries, queued_at=queued_at, worker=fleet[0], timeout=120 + 6 * ideal)
    machine_cpu = psutil.cpu_percent(None)
    cores = (cpu_seconds(fleet) - cpu_before) / seconds
    fleet_connections = connections() - connections_before
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
        "connections_per_worker": round(fleet_connections / workers, 1),
        "workers_cpu_cores": round(cores, 2),
        "machine_cpu_percent": machine_cpu,
        "queued_at": queued_at,
    }
    return figures, fleet


def scaleout(
    plan: Plan,
    start_fleet: Callable[..., list[Child]],
    stop_fleet: Callable[[list[Child]], None],
    workdir: Path,
    concurrency: int,
) -> dict[str, Any]:
    """The simulated pipeline on 1, 2, 4 worker processes against one database;
    then 2 workers under a provider limit below their demand."""
    latencies = format_latencies(plan.latencies)
    critical = critical_path_ms(plan.latencies)
    runs = []
    for workers in plan.scaleout_workers:
        entries = plan.scaleout_waves * workers * concurrency
        with step(f"scaleout: {workers} worker(s), {entries} entries queued at once"):
            figures, fleet = fleet_run(
                start_fleet,
                stop_fleet,
                workers=workers,
                entries=entries,
                critical=critical,
                concurrency=concurrency,
                calls_log=workdir / f"calls-{workers}.log",
                STUB_LATENCY_MS=latencies,
            )
            stop_fleet(fleet)
        figures.pop("queued_at")
        runs.append(figures)
    base = runs[0]["entries_per_second"]
    for figures in runs:
        figures["speedup"] = ratio(figures["entries_per_second"], base)

    limit = plan.limited_per_second
    workers = 2
    demand = workers * concurrency / (critical / 1000)
    with (
        step(
            f"scaleout: {workers} workers, generation limited to {limit}/s "
            f"(demand about {demand:.0f}/s), {plan.limited_entries} entries"
        ),
        GrantSampler("anthropic") as grants,
    ):
        figures, fleet = fleet_run(
            start_fleet,
            stop_fleet,
            workers=workers,
            entries=plan.limited_entries,
            critical=critical,
            concurrency=concurrency,
            calls_log=workdir / "calls-limited.log",
            STUB_LATENCY_MS=latencies,
            PROVIDER_LIMITS=f"anthropic={limit}/s",
        )
        logs = " ".join(child.log.read_text(errors="replace") for child in fleet)
        stop_fleet(fleet)
    measured_from = figures.pop("queued_at")  # the warm-up's grants left out
    times = sorted(t for t in grants.grants if t >= measured_from)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    limited = {
        "limit": f"anthropic={limit}/s",
        "limit_per_minute": limit * 60,
        "demand_per_minute": round(demand * 60),
        "grants_seen": len(times),
        "llm_calls": stub_calls(workdir / "calls-limited.log", "generate"),
        # Calls per window, averaged over the windows that saw any (span + 1).
        "achieved_per_minute": round(len(times) / (span + 1) * 60, 1) if times else None,
        "most_in_any_window": most_in_any_window(times, 1.0),
        "window_seconds": 1,
        "http_429_seen": logs.count("HTTP 429"),
        "entries_per_second": figures["entries_per_second"],
        "entries_run_twice": figures["entries_run_twice"],
        "llm_calls_per_entry": figures["llm_calls_per_entry"],
    }
    return {
        "latencies": latencies,
        "concurrency_per_worker": concurrency,
        "runs": runs,
        "limited": limited,
    }


def play_pipeline(
    plan: Plan, web: Child, worker: Child, tokens: list[str]
) -> tuple[list[float], dict[str, float]]:
    """The ``pipeline`` section's stories (see ``play_stories``)."""
    from django.conf import settings

    critical = critical_path_ms(plan.latencies)
    decisions = min(plan.pipeline_decisions, settings.STORY_LENGTH - 1)
    with step(
        f"pipeline ({format_latencies(plan.latencies)}): "
        f"{plan.pipeline_learners} stories, {decisions} decisions each"
    ):
        return play_stories(
            web.port,
            tokens[: plan.pipeline_learners],
            decisions=decisions,
            worker=worker,
            timeout=60 + 3 * (decisions + 1) * critical / 1000,
        )


def play_instant(
    plan: Plan,
    start: Callable[..., Child],
    stop_fleet: Callable[[list[Child]], None],
    tokens: list[str],
    workdir: Path,
) -> dict[str, Any]:
    """The ``instant`` section: learners read, then choose, with pre-generation
    off and then on (a worker and a web process of each mode)."""
    from django.conf import settings

    latencies = format_latencies(plan.latencies)
    critical = critical_path_ms(plan.latencies)
    # Learners read each entry before choosing; long enough for its
    # branches to be generated (one wave of the worker's slots per entry
    # at most), as a reader's tens of seconds would be.
    read_seconds = 1.5 + 2.5 * critical / 1000
    instant: dict[str, Any] = {
        "learners": plan.instant_learners,
        "decisions": plan.instant_learners * plan.instant_decisions,
        "read_seconds": round(read_seconds, 2),
    }
    instant_tokens = tokens[-2 * plan.instant_learners :]
    for index, mode in enumerate(("off", "on")):
        calls_log = workdir / f"calls-{mode}.log"
        worker = start(
            "worker",
            STUB_LATENCY_MS=latencies,
            STUB_CALL_LOG=str(calls_log),
            PREGENERATE_BRANCHES=mode,
            PREGENERATE_DAILY_CAP="100000",
        )
        # The web process too: a decision adopting a complete branch
        # queues that entry's own branches.
        instant_web = start("web", PREGENERATE_BRANCHES=mode, PREGENERATE_DAILY_CAP="100000")
        learners = instant_tokens[index * plan.instant_learners :][: plan.instant_learners]
        with step(
            f"instant, pre-generation {mode}: {len(learners)} learners, "
            f"{plan.instant_decisions} decisions each, {read_seconds:.1f}s reading"
        ):
            ms, request_ms = read_and_choose(
                instant_web.port,
                learners,
                decisions=min(plan.instant_decisions, settings.STORY_LENGTH - 1),
                read_seconds=read_seconds,
                worker=worker,
                timeout=60 + 3 * plan.instant_decisions * (critical / 1000 + read_seconds),
            )
            jobs_drained(worker, timeout=60 + 10 * critical / 1000)
        generations = calls_log.read_text().split().count("generate")
        [(dropped,)] = query("SELECT count(*) FROM adventures_droppedbranch")
        instant[f"pregenerate_{mode}"] = {
            "decision_to_complete_ms": distribution(ms),
            "decision_request_ms": distribution(request_ms),
            "llm_calls_per_adopted_entry": per_adopted_entry(generations, len(learners), len(ms)),
            "branches_dropped": dropped,
        }
        stop_fleet([worker, instant_web])
        clear_adventures_and_jobs()
    return instant


def play_floors(plan: Plan, port: int, tokens: list[str], pickup_ms: float) -> dict[str, Any]:
    """The ``floors`` section (``bench/floors.py``): stories started over HTTP,
    no worker running; their entries' pieces timed one at a time here."""
    from uuid import UUID

    from adventures.models import Adventure

    warmup = 3
    with step(f"floors: {plan.floors_samples} decisions, each piece of the next entry alone"):
        started = [
            create_adventure(port, tokens[index % len(tokens)])
            for index in range(warmup + plan.floors_samples)
        ]
        users = dict(
            Adventure.objects.filter(id__in=[a["id"] for a in started]).values_list("id", "user_id")
        )
        adventures = [
            (UUID(a["id"]), UUID(a["entries"][0]["id"]), users[UUID(a["id"])]) for a in started
        ]
        token_of = {UUID(a["id"]): tokens[index % len(tokens)] for index, a in enumerate(started)}

        exact = commit_timestamps_on()

        def decide(adventure_id: UUID, entry_id: UUID, choice_id: UUID) -> tuple[UUID, float]:
            """The decision sent → its transaction committed (the job is then
            the worker's to fetch): by the commit's timestamp, as the pipeline's
            ``request`` stage; else until the answer (an upper bound)."""
            sent = time.time()
            status_code, body = call(
                port,
                "POST",
                f"/api/adventures/{adventure_id}/decisions",
                token_of[adventure_id],
                {"entry_id": str(entry_id), "choice_id": str(choice_id)},
            )
            answered = time.time()
            if status_code != 201:
                raise BenchError(f"POST decisions answered {status_code}: {body!r}")
            next_id = body["next_entry"]["id"]
            if not exact:
                return UUID(next_id), (answered - sent) * 1000
            [(committed,)] = query(
                """
                SELECT EXTRACT(EPOCH FROM pg_xact_commit_timestamp(deferred.xmin))
                FROM procrastinate_jobs job
                JOIN procrastinate_events deferred
                  ON deferred.job_id = job.id AND deferred.type = 'deferred'
                WHERE job.args->>'entry_id' = %s
                """,
                [next_id],
            )
            return UUID(next_id), (float(committed) - sent) * 1000

        return floors.measure(adventures, decide, pickup_ms=pickup_ms, warmup=warmup)


def pipeline_figures(
    plan: Plan, entry_ms: list[float], decided: dict[str, float]
) -> dict[str, Any]:
    critical = critical_path_ms(plan.latencies)
    entry_dist = distribution(entry_ms)
    return {
        "critical_path_ms": critical,
        "entry_ms": entry_dist,
        "overhead_ms_p50": round(entry_dist["p50"] - critical, 1),
        "overhead_stages_ms_p50": overhead_stages(decided, plan.latencies),
        "ratio_p50": ratio(entry_dist["p50"], critical, 3),
    }


def machine_figures(postgres_version: str) -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        # The load while the run ended (1, 5, 15 minutes): the machine
        # may be shared, and its other work weighs on every figure.
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "postgres_version": postgres_version,
        "python_version": platform.python_version(),
    }


# --- The run ----------------------------------------------------------------------------


def run(plan: Plan) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="langlearn-bench-"))
    env = environment(plan, workdir)
    os.environ.clear()
    os.environ.update(env)
    children: list[Child] = []
    own_server: Path | None = None
    database_made = False

    def start(kind: str, listening: int = 1, **extra: str) -> Child:
        child_env = env | extra
        log_file = workdir / f"{kind}-{len(children)}.log"
        if kind == "web":
            child = start_web(child_env, free_port(), log_file)
        else:
            child = start_worker(child_env, log_file, lambda: worker_listening(listening))
        children.append(child)
        return child

    def start_fleet(count: int, **extra: str) -> list[Child]:
        return [start("worker", listening=index + 1, **extra) for index in range(count)]

    def stop_fleet(fleet: list[Child]) -> None:
        for child in fleet:
            child.stop()
            children.remove(child)

    try:
        import django

        django.setup()
        # The bench's own deferrals (the throughput batch) need no log line each.
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
        from django.conf import settings

        with step(f"database {plan.database}: create and migrate"):
            own_server = embedded_data_dir()
            if own_server is not None:
                track_commit_timestamps(own_server)
            drop_database(plan.database, create=True)
            database_made = True
            migrate(env)
            tokens = make_learners(LEARNERS)
            [(postgres_version,)] = query("SHOW server_version")

        if plan.only == "pipeline":
            web = start("web")
            worker = start("worker", STUB_LATENCY_MS=format_latencies(plan.latencies))
            return {
                "pipeline": pipeline_figures(plan, *play_pipeline(plan, web, worker, tokens)),
                "machine": machine_figures(postgres_version),
            }
        if plan.only == "floors":
            web = start("web")
            with step(f"dispatch: {plan.pickup_samples} adventures, one at a time"):
                worker = start("worker")
                pickup = pickups(web.port, tokens, plan.pickup_samples)
                stop_fleet([worker])
            clear_adventures_and_jobs()
            return {
                "floors": play_floors(plan, web.port, tokens, distribution(pickup)["p50"]),
                "machine": machine_figures(postgres_version),
            }
        if plan.only == "instant":
            return {
                "instant": play_instant(plan, start, stop_fleet, tokens, workdir),
                "machine": machine_figures(postgres_version),
            }

        with step(f"dispatch floor: {plan.floor_samples} NOTIFY round trips"):
            floor = notify_floor(plan.floor_samples)

        # Both servers run side by side and take turns, so that whatever else the
        # machine does in the meantime weighs on both alike.
        bare = start("web", DJANGO_SETTINGS_MODULE="bench.settings_nodefer")
        web = start("web")
        servers = {"without": bare, "with": web}
        api: dict[str, dict[str, list[float]]] = {"with": {}, "without": {}}
        for concurrency in plan.api_concurrency:
            with step(
                f"api: {plan.api_requests} POSTs from {concurrency} clients, "
                f"with and without deferral, in {API_ROUNDS} alternating rounds"
            ):
                for mode, server in servers.items():
                    post_load(
                        server.port,
                        tokens,
                        concurrency=concurrency,
                        requests=0,
                        warmup=plan.api_warmup,
                    )
                    api[mode][str(concurrency)] = []
                for round_ in range(API_ROUNDS):
                    order = ("without", "with") if round_ % 2 == 0 else ("with", "without")
                    for mode in order:
                        api[mode][str(concurrency)] += post_load(
                            servers[mode].port,
                            tokens,
                            concurrency=concurrency,
                            requests=plan.api_requests // API_ROUNDS,
                            warmup=0,
                        )
        bare.stop()
        children.remove(bare)
        clear_adventures_and_jobs()

        with step(f"dispatch: {plan.pickup_samples} adventures, one at a time"):
            worker = start("worker")
            pickup = pickups(web.port, tokens, plan.pickup_samples)
            worker.stop()
            children.remove(worker)
        clear_adventures_and_jobs()
        floor_pieces = play_floors(plan, web.port, tokens, distribution(pickup)["p50"])
        clear_adventures_and_jobs()

        latencies = format_latencies(plan.latencies)
        critical = critical_path_ms(plan.latencies)
        worker = start("worker", STUB_LATENCY_MS=latencies)
        concurrency = cast(int, settings.PROCRASTINATE_WORKER_DEFAULTS["concurrency"])
        # Figured now: the stage split reads the entries and jobs, which the
        # sections after this one clear.
        pipeline = pipeline_figures(plan, *play_pipeline(plan, web, worker, tokens))

        ideal = plan.throughput_entries * critical / 1000 / concurrency
        with (
            step(f"throughput: {plan.throughput_entries} entries queued at once"),
            MemorySampler({"web": web, "worker": worker}) as memory,
        ):
            queued_at = queue_at_once(plan.throughput_entries)
            seconds = drain(
                plan.throughput_entries,
                queued_at=queued_at,
                worker=worker,
                timeout=60 + 4 * ideal,
            )
        stop_fleet([worker])
        scaled = scaleout(plan, start_fleet, stop_fleet, workdir, concurrency)
        clear_adventures_and_jobs()

        # (No worker runs from here: the live section commits status changes itself.)
        with step(f"live: status events, 1 stream then {LIVE_STREAMS} on one web process"):
            live_figures, live_web = live.measure(
                env, workdir, streams=LIVE_STREAMS, samples=plan.live_samples, warmup=10
            )
            children.append(live_web)
        clear_adventures_and_jobs()

        instant = play_instant(plan, start, stop_fleet, tokens, workdir)

        floor_p50 = distribution(floor)["p50"]
        pickup_dist = distribution(pickup)
        return {
            "dispatch": {
                "floor_notify_ms": distribution(floor, 3),
                "pickup_ms": pickup_dist,
                "ratio_p50": ratio(pickup_dist["p50"], floor_p50, 1),
            },
            "api": {
                "concurrency": list(plan.api_concurrency),
                "requests": plan.api_requests,
                "with_defer_ms": {c: distribution(ms) for c, ms in api["with"].items()},
                "without_defer_ms": {c: distribution(ms) for c, ms in api["without"].items()},
                "ratio_p50": {
                    c: ratio(
                        distribution(api["with"][c])["p50"], distribution(api["without"][c])["p50"]
                    )
                    for c in api["with"]
                },
            },
            "pipeline": pipeline,
            "floors": floor_pieces,
            "throughput": {
                "entries": plan.throughput_entries,
                "concurrency": concurrency,
                "seconds": round(seconds, 2),
                "ideal_seconds": round(ideal, 2),
                "efficiency": round(ideal / seconds, 3),
                "entries_per_second": round(plan.throughput_entries / seconds, 2),
            },
            "live": live_figures,
            "instant": instant,
            "memory": {
                "web_rss_mb": memory.peak_mb("web"),
                "worker_rss_mb": memory.peak_mb("worker"),
            },
            "scaleout": scaled,
            "machine": machine_figures(postgres_version),
        }
    except Exception:  # a failure, not an interruption: show what the children said
        for child in children:
            log(f"last lines of the {child.name} log:\n{child.tail()}")
        raise
    finally:
        for child in reversed(children):
            child.stop()
        if database_made:
            try:
                drop_database(plan.database)
            except psycopg.Error as exc:
                log(f"could not drop database {plan.database}: {exc}")
        if own_server is not None:
            from langlearn.embedded_pg import stop

            stop(own_server)
        shutil.rmtree(workdir, ignore_errors=True)
