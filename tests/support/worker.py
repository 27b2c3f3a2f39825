"""The real worker: ``manage.py procrastinate worker`` as a separate process.

A test that uses ``start_worker`` is marked ``slow`` (see ``markers``)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from .database import truncate_jobs
from .processes import Process, subprocess_env, wait_for

Worker = Process


def poll_entry_complete(
    client: APIClient, adventure_id: str, entry_id: str, worker: Process
) -> dict:
    """Poll the API until the entry is complete; fail (showing the worker's
    log) if it ends in error or the deadline passes."""

    def complete() -> dict | None:
        body = client.get(f"/api/adventures/{adventure_id}/entries/{entry_id}").json()
        assert body["status"] != "error", body
        return body if body["status"] == "complete" else None

    try:
        return wait_for(complete, timeout=60, what=f"entry {entry_id} to complete")
    except BaseException:
        print(worker.output())
        raise


@pytest.fixture
def start_worker(tmp_path: Path, transactional_db: None) -> Iterator[Callable[..., Worker]]:
    """Start ``manage.py procrastinate worker`` as a real separate process."""
    truncate_jobs()
    workers: list[Worker] = []

    def start(*args: str, **env: str) -> Worker:
        worker = Process(
            [sys.executable, "manage.py", "procrastinate", "worker", *args],
            subprocess_env(tmp_path, **env),
            tmp_path / f"worker-{len(workers)}.log",
        )
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        code = worker.stop(timeout=10)
        if code not in (0, -signal.SIGTERM, -signal.SIGKILL):
            print(f"--- worker log ({worker.log}) exited {code} ---\n{worker.output()}")
    truncate_jobs()
