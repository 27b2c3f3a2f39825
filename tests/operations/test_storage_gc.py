"""The storage clean-up: ``manage.py storage_gc`` and its daily job remove the
audio files no entry or digest references (deleted stories, dropped
branches), never one being written, on local files, S3 and Bunny."""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.utils import timezone
from procrastinate.contrib.django import app

from adventures.models import Audio
from news.models import DigestAudio
from operations.storage_gc import storage_gc
from operations.tasks import storage_gc_daily
from outbound import factory
from outbound.storage.django_storage import DjangoAudioStorage

from tests.support.factories import make_adventure, make_complete_entry, make_digest, make_user
from tests.support.fakes import bunny as fake_bunny
from tests.support.fakes.s3 import use_s3

pytestmark = pytest.mark.django_db

WAV = b"RIFF" + b"\x00" * 96  # 100 bytes


def files(kept_entry: str, digest: str) -> dict[str, str]:
    """The files of the scene: two referenced, two orphans, one being written."""
    return {
        "entry": kept_entry,
        "digest": digest,
        "deleted story": "audio/4b1f0c3e-0000-4000-8000-000000000001/e1.wav",
        "dropped branch": "audio/4b1f0c3e-0000-4000-8000-000000000002/b1.wav",
        "being written": "audio/4b1f0c3e-0000-4000-8000-000000000003/e9.wav",
    }


def referenced_rows() -> tuple[str, str]:
    """An entry's and a digest's audio rows; their file names."""
    entry = make_complete_entry(make_adventure(make_user()))
    digest = make_digest()
    digest_audio = DigestAudio.objects.create(
        digest=digest,
        file=f"audio/digests/{digest.date}/es-A2-{digest.id}.wav",
        content_type="audio/wav",
        duration_ms=1000,
        size_bytes=100,
    )
    return Audio.objects.get(entry=entry).file, digest_audio.file


def test_local_files_nothing_references_are_removed_and_young_ones_kept(settings, capsys, caplog):
    media = Path(settings.MEDIA_ROOT)
    scene = files(*referenced_rows())
    day_ago = time.time() - 2 * 24 * 3600
    for what, name in scene.items():
        path = media / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(WAV)
        if what != "being written":
            os.utime(path, (day_ago, day_ago))

    call_command("storage_gc", "--dry-run")
    listed = capsys.readouterr().out
    assert f"would remove {scene['deleted story']}" in listed
    assert f"would remove {scene['dropped branch']}" in listed
    assert "5 files (500 bytes) under audio/: 2 referenced, 1 younger than 1 day" in listed
    assert "2 orphans (200 bytes); dry run, nothing removed." in listed
    assert all((media / name).exists() for name in scene.values())

    with caplog.at_level(logging.INFO, logger="operations.storage_gc"):
        call_command("storage_gc", "--older-than", "1d", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["removed"] == 2
    assert report["freed_bytes"] == 200
    assert sorted(report["orphan_names"]) == sorted(
        [scene["deleted story"], scene["dropped branch"]]
    )
    left = {what for what, name in scene.items() if (media / name).exists()}
    assert left == {"entry", "digest", "being written"}
    assert not (media / scene["deleted story"]).parent.exists()
    assert "2 removed (200 bytes freed)" in caplog.text

    # With no grace at all, the file being written is an orphan too.
    call_command("storage_gc", "--older-than", "0s")
    assert "1 removed (100 bytes freed)" in capsys.readouterr().out


def test_a_bad_age_is_a_clear_message():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="'yesterday' is not a duration"):
        call_command("storage_gc", "--older-than", "yesterday")


def run_against(storage: DjangoAudioStorage, scene: dict[str, str]) -> None:
    """Every file written now; the clean-up asked an hour later (all are
    old enough) after it was asked now (all are being written)."""
    for name in scene.values():
        storage.save(name, WAV, content_type="audio/wav")
    now = storage_gc(older_than=timedelta(hours=1))
    assert (now.files, now.referenced, now.young, now.removed) == (5, 2, 3, 0)
    later = storage_gc(older_than=timedelta(hours=1), now=timezone.now() + timedelta(hours=2))
    assert later.removed == 3
    assert later.freed_bytes == 300
    left = {file.name for file in storage.listing("audio/")}
    assert left == {scene["entry"], scene["digest"]}


@pytest.mark.slow
def test_s3_objects_nothing_references_are_removed(settings, monkeypatch, moto_server, bucket):
    use_s3(settings, monkeypatch, moto_server)
    factory.reset()
    run_against(factory.get_audio_storage(), files(*referenced_rows()))  # type: ignore[arg-type]


def test_bunny_files_nothing_references_are_removed(settings):
    with fake_bunny.FakeBunny() as bunny:
        options = {
            "storage_zone": fake_bunny.ZONE,
            "api_key": fake_bunny.ACCESS_KEY,
            "endpoint": bunny.storage.url,
            "pull_zone_url": bunny.pull_zone.url,
            "timeout": 2.0,
        }
        backend = {"BACKEND": "outbound.storage.bunny.BunnyStorage", "OPTIONS": options}
        settings.STORAGES = {**settings.STORAGES, "audio": backend}
        factory.reset()
        run_against(factory.get_audio_storage(), files(*referenced_rows()))  # type: ignore[arg-type]


def test_the_daily_job_runs_on_the_maintenance_queue(settings):
    periodic = app.periodic_registry.periodic_tasks[("operations.storage_gc", "storage_gc")]
    assert periodic.cron == settings.STORAGE_GC_CRON == "0 4 * * *"
    assert periodic.task.queue == settings.MAINTENANCE_QUEUE

    media = Path(settings.MEDIA_ROOT)
    orphan = media / "audio" / "gone" / "e1.wav"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(WAV)
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(orphan, (day_ago, day_ago))
    assert async_to_sync(storage_gc_daily.func)(timestamp=0) == 1
    assert not orphan.exists()
