"""Safe by default: a server started without configuration shows no debug
pages, and no mode ever lists a folder of audio files."""

from __future__ import annotations

import http.client
import socket
import uuid
from pathlib import Path

import pytest
from django.test import Client

from tests.support.processes import ASGI, ROOT, Process, subprocess_env, wait_for


def _story_files(media_root: Path) -> tuple[str, str]:
    """A story's folder of audio, as the voice step writes it."""
    adventure, entry = str(uuid.uuid4()), str(uuid.uuid4())
    folder = media_root / "audio" / adventure
    folder.mkdir(parents=True)
    (folder / f"{entry}.wav").write_bytes(b"RIFF....WAVE")
    return adventure, entry


@pytest.mark.parametrize("debug", [True, False], ids=["DEBUG=true", "DEBUG=false"])
def test_a_folder_of_audio_is_never_listed(settings, tmp_path, debug):
    settings.DEBUG = debug
    settings.MEDIA_ROOT = tmp_path
    adventure, entry = _story_files(tmp_path)
    client = Client()

    listing = client.get(f"/media/audio/{adventure}/")
    assert listing.status_code == 404
    assert entry not in listing.content.decode()
    assert entry not in client.get("/media/audio/").content.decode()
    # The file itself, whose name only its learner is given, is served.
    assert client.get(f"/media/audio/{adventure}/{entry}.wav").status_code == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_server_started_without_configuration_shows_no_debug_pages(tmp_path):
    """No DEBUG, SECRET_KEY or ALLOWED_HOSTS in the environment: it starts
    (a generated key, local host names) with DEBUG off."""
    env = subprocess_env(tmp_path)
    for name in ("DEBUG", "SECRET_KEY", "SECRET_KEY_FILE", "ALLOWED_HOSTS", "LOG_FORMAT"):
        env.pop(name, None)
    adventure, entry = _story_files(tmp_path / "media")
    port = _free_port()
    server = Process(
        [str(ROOT / ".venv/bin/gunicorn"), *ASGI, "--bind", f"127.0.0.1:{port}"],
        env,
        tmp_path / "gunicorn.log",
    )

    def answering() -> bool:
        try:
            return _get(port, "/healthz")[0] == 200
        except OSError:
            return False

    try:
        wait_for(answering, timeout=60, what="gunicorn to answer")
        status, page = _get(port, "/no-such-page")
        assert status == 404
        # Django's debug page names the URLconf and lists every route.
        assert "URLconf" not in page
        assert "api/" not in page
        status, page = _get(port, f"/media/audio/{adventure}/")
        assert status == 404
        assert entry not in page
        assert _get(port, f"/media/audio/{adventure}/{entry}.wav")[0] == 200
    finally:
        server.stop()
    assert "Traceback" not in server.output()
