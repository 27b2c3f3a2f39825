"""The ``slow`` marker: tests that start child processes (the worker, a web
server, ``manage.py``, ``run.py``, ``docker-compose``, hadolint, moto) or
otherwise take seconds. ``python3 run.py test --fast`` leaves them out
(``pytest -m "not slow"``); ``python3 run.py test`` runs everything.

A test gets the marker
- by using a fixture that starts processes (``PROCESS_FIXTURES``), or
- explicitly: ``@pytest.mark.slow``, or a module's ``pytestmark``.

A test without it that starts a child process fails, naming the command: the
fast tier stays free of subprocesses, and the marker stays true.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

# Fixtures that start child processes: a test using one is slow.
PROCESS_FIXTURES = frozenset({"start_worker", "reader_server"})


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PROCESS_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _child_processes_need_the_slow_marker(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if request.node.get_closest_marker("slow"):
        yield
        return
    started: list[str] = []
    execute_child = subprocess.Popen._execute_child  # type: ignore[attr-defined]

    def noted(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> Any:
        started.append(" ".join(map(str, args)) if isinstance(args, list | tuple) else str(args))
        return execute_child(self, args, *rest, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "_execute_child", noted)
    yield
    if started:
        pytest.fail(
            f"the test started {', '.join(started)}: mark it @pytest.mark.slow "
            "(python3 run.py test --fast leaves such tests out)"
        )
