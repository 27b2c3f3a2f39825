"""What every test starts from: stub providers, audio in a temporary folder,
fresh throttle counters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.core.cache import cache

from outbound import factory
from worker import locks

if TYPE_CHECKING:  # pytest-django's settings fixture (its class is not public)
    from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def _isolated(settings: Settings, tmp_path: Path) -> Iterator[None]:
    """Stub providers, audio in a temporary folder, fresh throttle counters."""
    settings.STUB_GENERATION = True
    settings.MEDIA_ROOT = tmp_path / "media"
    audio = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": tmp_path / "media", "base_url": settings.MEDIA_URL},
    }
    settings.STORAGES = {**settings.STORAGES, "default": audio, "audio": audio}
    factory.reset()
    yield
    factory.reset()
    locks.close()  # the pipeline's entry-lock session: no connection outlives a test


@pytest.fixture(autouse=True)
def _clear_cache(request: pytest.FixtureRequest) -> None:
    if "django_db_setup" in request.fixturenames or request.node.get_closest_marker("django_db"):
        cache.clear()
