"""The benchmark run: set up, measure each section, clean up.

Order of a full run (each step bounded in time; the sections are in
``bench/sections/``):

1. a fresh database (``--database``, dropped first if an earlier run left it),
   migrated by ``manage.py migrate``, with a few hundred learners. Without
   ``DATABASE_URL`` it lives on an embedded PostgreSQL server of its own, in the
   run's temporary folder, with ``track_commit_timestamp`` on;
2. ``dispatch`` floor: bare NOTIFY round trips between two connections;
3. ``api``: POST /api/adventures under load, with and without deferral;
4. ``dispatch``: one adventure at a time, worker idle, stub latency zero;
5. ``floors``: each piece of the wait after a decision, alone, no worker;
6. ``pipeline``: learners play through their stories, stub latencies on;
7. ``throughput`` (and ``memory``): many entries committed at once;
8. ``scaleout``: 1, 2 and 4 worker processes, then a provider limit;
9. ``live``: status events on one web process, the worker stopped;
10. ``instant``: learners who read before choosing, pre-generation off, then on;
11. ``load``: a classroom signing up at once, then many learners reading and
    choosing, on a web server and a worker of its own;
12. ``level``: simulated learners' passages, in this process, no worker;
13. ``workers``: a worker killed with entries in flight and the new one that
    completes them; a warm worker's start, memory and first passages;
14. everything started is stopped (that server included), the database
    dropped, temporary files removed.

``--only pipeline|floors|instant|level|load|workers`` runs 1, that section
alone (with what it needs: one web server, a worker; nothing for ``level``; a
web server and a worker of its own for ``load``, workers of its own for
``workers``), then 14.

The bench process itself runs Django against the benchmark database (to create
learners and tokens, run the floors' pipelines, queue the throughput batch, and
read timestamps), with the same environment as its children.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from . import database
from .fleet import Fleet
from .plan import LEARNERS, THROTTLE, Plan, log, step
from .processes import Child
from .results import machine
from .sections import (
    api,
    dispatch,
    floors,
    instant,
    level,
    live,
    load,
    pipeline,
    scaleout,
    throughput,
    workers,
)
from .stats import distribution, format_latencies


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
        # Workers load each language on first use, their warm-up measured by
        # the workers section alone (its CPU would share the other sections').
        WORKER_WARM_LANGUAGES="",
    )
    if not env.get("DATABASE_URL"):
        # An embedded server of the run's own (settings put it in DATA_DIR/postgres).
        env["LANGLEARN_DATA_DIR"] = str(workdir / "data")
    return env


def pickups(plan: Plan, fleet: Fleet, web: Child, tokens: list[str]) -> list[float]:
    """The ``dispatch`` section's pickups, on a worker of their own."""
    with step(f"dispatch: {plan.pickup_samples} adventures, one at a time"):
        worker = fleet.start("worker")
        pickup = dispatch.pickups(web.port, tokens, plan.pickup_samples)
        fleet.stop(worker)
    database.clear_adventures_and_jobs()
    return pickup


def only_pipeline(plan: Plan, fleet: Fleet, tokens: list[str], workdir: Path) -> dict[str, Any]:
    web = fleet.start("web")
    worker = fleet.start("worker", STUB_LATENCY_MS=format_latencies(plan.latencies))
    return {"pipeline": pipeline.measure(plan, web, worker, tokens)}


def only_floors(plan: Plan, fleet: Fleet, tokens: list[str], workdir: Path) -> dict[str, Any]:
    web = fleet.start("web")
    pickup = pickups(plan, fleet, web, tokens)
    return {"floors": floors.play(plan, web.port, tokens, distribution(pickup)["p50"])}


def only_instant(plan: Plan, fleet: Fleet, tokens: list[str], workdir: Path) -> dict[str, Any]:
    return {"instant": instant.measure(plan, fleet, tokens, workdir)}


def only_load(plan: Plan, fleet: Fleet, tokens: list[str], workdir: Path) -> dict[str, Any]:
    return {"load": load.measure(plan, fleet)}


def only_workers(plan: Plan, fleet: Fleet, tokens: list[str], workdir: Path) -> dict[str, Any]:
    return {"workers": workers.measure(plan, fleet, workdir)}


def only_level(plan: Plan, fleet: Fleet, tokens: list[str], workdir: Path) -> dict[str, Any]:
    return {"level": level.measure(plan)}


def every_section(plan: Plan, fleet: Fleet, tokens: list[str], workdir: Path) -> dict[str, Any]:
    with step(f"dispatch floor: {plan.floor_samples} NOTIFY round trips"):
        floor = dispatch.notify_floor(plan.floor_samples)
    web = fleet.start("web")
    api_figures = api.measure(plan, fleet, web, tokens)
    database.clear_adventures_and_jobs()
    pickup = pickups(plan, fleet, web, tokens)
    floor_pieces = floors.play(plan, web.port, tokens, distribution(pickup)["p50"])
    database.clear_adventures_and_jobs()

    worker = fleet.start("worker", STUB_LATENCY_MS=format_latencies(plan.latencies))
    pipeline_figures = pipeline.measure(plan, web, worker, tokens)
    throughput_figures, memory = throughput.measure(plan, web, worker)
    fleet.stop(worker)
    concurrency = throughput.worker_concurrency()
    scaled = scaleout.measure(plan, fleet, workdir, concurrency)
    database.clear_adventures_and_jobs()

    # (No worker runs from here: the live section commits status changes itself.)
    with step(f"live: status events, 1 stream then {live.STREAMS} on one web process"):
        live_figures, live_web = live.measure(
            fleet.env, workdir, streams=live.STREAMS, samples=plan.live_samples, warmup=10
        )
        fleet.adopt(live_web)
    database.clear_adventures_and_jobs()
    return {
        "dispatch": dispatch.figures(floor, pickup),
        "api": api_figures,
        "pipeline": pipeline_figures,
        "floors": floor_pieces,
        "throughput": throughput_figures,
        "live": live_figures,
        "instant": instant.measure(plan, fleet, tokens, workdir),
        "load": load.measure(plan, fleet),
        "memory": memory,
        "scaleout": scaled,
        "level": level.measure(plan),
        "workers": workers.measure(plan, fleet, workdir),
    }


SECTIONS = {
    "pipeline": only_pipeline,
    "floors": only_floors,
    "instant": only_instant,
    "level": only_level,
    "load": only_load,
    "workers": only_workers,
}


def run(plan: Plan) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="langlearn-bench-"))
    env = environment(plan, workdir)
    os.environ.clear()
    os.environ.update(env)
    fleet = Fleet(env, workdir)
    own_server: Path | None = None
    database_made = False
    try:
        import django

        django.setup()
        # The bench's own deferrals (the throughput batch) need no log line each.
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
        with step(f"database {plan.database}: create and migrate"):
            own_server = database.embedded_data_dir()
            if own_server is not None:
                database.track_commit_timestamps(own_server)
            database.drop_database(plan.database, create=True)
            database_made = True
            database.migrate(env)
            tokens = database.make_learners(LEARNERS)
            [(postgres_version,)] = database.query("SHOW server_version")
        measure = SECTIONS.get(plan.only or "", every_section)
        figures = measure(plan, fleet, tokens, workdir)
        return figures | {"machine": machine() | {"postgres_version": postgres_version}}
    except Exception:  # a failure, not an interruption: show what the children said
        fleet.show_logs()
        raise
    finally:
        fleet.stop_all()
        if database_made:
            try:
                database.drop_database(plan.database)
            except psycopg.Error as exc:
                log(f"could not drop database {plan.database}: {exc}")
        if own_server is not None:
            from langlearn.embedded_pg import stop

            stop(own_server)
        shutil.rmtree(workdir, ignore_errors=True)
