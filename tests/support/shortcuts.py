"""Shortcuts that keep the suite fast without changing what it tests.

They apply in the test process only: child processes (the worker, commands)
run with the real settings and load what they need themselves.
"""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_django.fixtures import Settings


def pytest_collection_finish(session: pytest.Session) -> None:
    """What exists once the tests are collected (modules, classes, the SDKs'
    thousands of pydantic models: 600,000 objects) lives as long as the
    process. Left to the garbage collector, each full collection walks all of
    it again (0.3-0.5 s, a dozen times per process); frozen, it is left out.
    Whatever the tests create is collected as before."""
    gc.freeze()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Settings) -> None:
    """The project's hasher (Argon2id, 19 MiB) costs tens of milliseconds per
    learner made; no test here is about the hash but
    ``tests/accounts/test_passwords.py``, which sets the real one."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _static_files_found_when_asked(settings: Settings) -> None:
    """WhiteNoise lists every collected static file up front, each time a test
    client builds the middleware (27 ms per client once ``collectstatic`` has
    run, as ``run.py serve`` does); with autorefresh it looks a file up when
    one is asked for. No test here asks for one."""
    settings.WHITENOISE_AUTOREFRESH = True
