"""gunicorn's settings for the web service (``--config python:langlearn.gunicorn_config``,
given by ``compose/start-api`` and ``run.py serve``): the metrics of its several
processes summed, with prometheus-client's multi-process mode.

Each web process writes its values to files in ``PROMETHEUS_MULTIPROC_DIR``,
and ``GET /metrics`` (``operations.metrics``) reads them all, whichever process
answers. gunicorn's master reads this file before it starts a web process, so
the variable set here is in every one of them: a folder of this run's own (the
files of an earlier run would be counted again), or the one given, emptied.
When a web process exits, its live gauges (the open event streams) are
dropped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

_given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _given:
    Path(_given).mkdir(parents=True, exist_ok=True)
    for stale in Path(_given).glob("*.db"):
        stale.unlink()
    _made = None
else:
    _made = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="langlearn-metrics-")


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if _made:
        shutil.rmtree(_made, ignore_errors=True)
