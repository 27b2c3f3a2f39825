"""Audio storage: S3Storage against a local moto_server, Bunny against its fakes."""

from __future__ import annotations

import io
import time
import wave
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages

from outbound.errors import ProviderError
from outbound.gemini.wav import pcm_to_wav
from outbound.storage.bunny import BunnyStorage, bunny_token
from outbound.storage.django_storage import DjangoAudioStorage

from tests.support.fakes import bunny as fake_bunny
from tests.support.fakes.s3 import BUCKET, free_port, settings_for, use_s3
from tests.support.fakes.server import Reply, json_reply

WAV = pcm_to_wav(b"\x00\x01" * 8000, rate=16_000)  # half a second
NAME = "audio/adventure-1/entry-1.wav"


@pytest.mark.slow
def test_audio_saved_to_s3_is_served_with_long_cache_headers(
    settings, monkeypatch, moto_server, bucket
):
    use_s3(settings, monkeypatch, moto_server)
    storage = DjangoAudioStorage()
    assert type(storages["audio"]).__name__ == "S3Storage"

    stored = storage.save(NAME, WAV, content_type="audio/wav")
    assert stored == NAME
    # A retried job overwrites the same object instead of piling up copies.
    assert storage.save(NAME, WAV, content_type="audio/wav") == NAME

    url = storage.url(stored)
    assert url.startswith(f"{moto_server}/{BUCKET}/{NAME}?")
    assert "X-Amz-Signature" in parse_qs(urlsplit(url).query)
    served = requests.get(url, timeout=5)
    assert served.status_code == 200
    assert served.content == WAV
    assert served.headers["Content-Type"] == "audio/wav"
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    with wave.open(io.BytesIO(served.content)) as wav:
        assert wav.getnframes() / wav.getframerate() == 0.5


@pytest.mark.slow
def test_a_missing_bucket_is_a_permanent_storage_error(settings, monkeypatch, moto_server):
    use_s3(settings, monkeypatch, moto_server, bucket="no-such-bucket")
    with pytest.raises(ProviderError) as caught:
        DjangoAudioStorage().save(NAME, WAV, content_type="audio/wav")
    assert caught.value.transient is False
    assert caught.value.status == 404


def test_an_unreachable_s3_is_a_transient_storage_error(settings, monkeypatch):
    use_s3(settings, monkeypatch, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ProviderError) as caught:
        DjangoAudioStorage().save(NAME, WAV, content_type="audio/wav")
    assert caught.value.transient is True


# --- Bunny ---------------------------------------------------------------------------


def test_the_bunny_token_matches_the_published_vector():
    assert (
        bunny_token("/300kb.jpg", 1598024587, "SecurityKey")
        == "HS256-o10JRWlsAItyAsdKS6jJKjabHN4FrFsplDHPV1idcX4"
    )


@pytest.fixture
def bunny() -> Iterator[fake_bunny.FakeBunny]:
    with fake_bunny.FakeBunny() as bunny:
        yield bunny


def bunny_storage(bunny: fake_bunny.FakeBunny, **overrides) -> BunnyStorage:
    options = {
        "storage_zone": fake_bunny.ZONE,
        "api_key": fake_bunny.ACCESS_KEY,
        "endpoint": bunny.storage.url,
        "pull_zone_url": bunny.pull_zone.url,
        "token_key": fake_bunny.TOKEN_KEY,
        "timeout": 2.0,
        **overrides,
    }
    return BunnyStorage(**options)


def test_audio_saved_to_bunny_is_served_through_a_signed_url(bunny):
    storage = DjangoAudioStorage(bunny_storage(bunny))
    assert storage.save(NAME, WAV, content_type="audio/wav") == NAME
    put = next(r for r in bunny.storage.requests if r.method == "PUT")
    assert put.path == f"/{fake_bunny.ZONE}/{NAME}"
    assert put.headers["content-type"] == "audio/wav"
    assert bunny.files[NAME] == (WAV, "audio/wav")
    # Saving again replaces the object in place.
    assert storage.save(NAME, WAV, content_type="audio/wav") == NAME
    assert list(bunny.files) == [NAME]

    url = storage.url(NAME)
    query = parse_qs(urlsplit(url).query)
    assert int(query["expires"][0]) > time.time() + 3600
    served = requests.get(url, timeout=5)
    assert served.status_code == 200
    assert served.content == WAV
    # The edge refuses a tampered or unsigned URL.
    assert requests.get(url.replace("token=HS256-", "token=HS256-x"), timeout=5).status_code == 403
    assert requests.get(url.split("?")[0], timeout=5).status_code == 403


def test_bunny_urls_are_plain_without_a_token_key(bunny):
    storage = bunny_storage(bunny, token_key="")
    assert storage.url(NAME) == f"{bunny.pull_zone.url}/{NAME}"


def test_a_wrong_bunny_key_is_permanent(bunny):
    storage = DjangoAudioStorage(bunny_storage(bunny, api_key="wrong"))
    with pytest.raises(ProviderError) as caught:
        storage.save(NAME, WAV, content_type="audio/wav")
    assert caught.value.transient is False
    assert caught.value.status == 401


@pytest.mark.parametrize(("status", "transient"), [(503, True), (429, True), (400, False)])
def test_bunny_http_errors_raise(bunny, status, transient):
    storage = bunny_storage(bunny)
    bunny.storage.queue(json_reply({"HttpCode": status, "Message": "nope"}, status))
    with pytest.raises(ProviderError) as caught:
        storage.save(NAME, io.BytesIO(WAV))
    assert caught.value.transient is transient
    assert caught.value.status == status
    assert bunny.files == {}


def test_a_slow_bunny_times_out_as_transient(bunny):
    storage = bunny_storage(bunny, timeout=0.2)
    bunny.storage.queue(Reply(delay=5))
    with pytest.raises(ProviderError, match="timed out") as caught:
        storage.save(NAME, io.BytesIO(WAV))
    assert caught.value.transient is True


def test_storage_backend_bunny_needs_its_settings(monkeypatch):
    for name in ("BUNNY_STORAGE_API_KEY", "BUNNY_PULL_ZONE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ImproperlyConfigured) as caught:
        settings_for(monkeypatch, STORAGE_BACKEND="bunny", BUNNY_STORAGE_ZONE="zone")
    assert "STORAGE_BACKEND=bunny needs BUNNY_STORAGE_API_KEY, BUNNY_PULL_ZONE_URL" in str(
        caught.value
    )
