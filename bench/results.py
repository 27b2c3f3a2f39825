"""The machine a run was on, and ``--save``: the figures written to
``bench/results/<date>-<section>.json``, committed so that docs can cite them."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from .processes import ROOT

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        # The load while the run ended (1, 5, 15 minutes): the machine
        # may be shared, and its other work weighs on every figure.
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "python_version": platform.python_version(),
    }


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def commit() -> dict[str, Any]:
    """The checkout's commit, and whether files differed from it (outside the results)."""
    changes = _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results")
    return {"commit": _git("rev-parse", "HEAD"), "uncommitted_changes": bool(changes)}


def save(
    figures: dict[str, Any],
    *,
    section: str | None,
    command: list[str],
    directory: Path | None = None,
    today: datetime.date | None = None,
) -> Path:
    """Write ``figures`` (as printed) with when, where and from which commit;
    a second run of the same section on the same day gets ``-2``, ``-3``..."""
    today = today or datetime.date.today()
    directory = directory or RESULTS
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{today.isoformat()}-{section or 'all'}"
    path, number = directory / f"{stem}.json", 1
    while path.exists():
        number += 1
        path = directory / f"{stem}-{number}.json"
    record = {
        "date": today.isoformat(),
        "command": " ".join(["python -m bench", *command]),
        **commit(),
        "machine": machine(),
        "figures": figures,
    }
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path
