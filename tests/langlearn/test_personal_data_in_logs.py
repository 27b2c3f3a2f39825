"""Nothing personal in the logs: a learner's whole session, on a real web
server and a real worker logging at INFO, leaves ids in the logs and never
the username, the story's theme, its passage text or the learner's words."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from tests.support.processes import ASGI, ROOT, Process, subprocess_env, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

USERNAME = "zoë-quintana"
PASSWORD = "a-long-passphrase"
THEME = "the lighthouse keeper Wendeline and her sunken harp"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Session:
    def __init__(self, base: str) -> None:
        self.base, self.token = base, ""

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {self.token}"} if self.token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                if "json" not in response.headers.get("Content-Type", ""):
                    return response.status, raw
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None
        except (urllib.error.URLError, ConnectionError):  # not up yet
            return 0, None


def test_a_learners_session_leaves_no_personal_data_in_the_logs(tmp_path, start_worker):
    env = {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"}
    worker = start_worker(**env)
    port = _free_port()
    web = Process(
        [str(ROOT / ".venv/bin/gunicorn"), *ASGI, "--bind", f"127.0.0.1:{port}"],
        subprocess_env(tmp_path, **env),
        tmp_path / "web.log",
    )
    learner = Session(f"http://127.0.0.1:{port}/api")
    try:
        wait_for(lambda: learner.call("GET", "/schema/")[0] == 200, timeout=60, what="web")
        account = {"username": USERNAME, "password": PASSWORD}
        assert learner.call("POST", "/auth/register", account)[0] == 201
        assert learner.call("POST", "/auth/register", account)[0] == 400  # taken
        assert learner.call("POST", "/auth/token", {**account, "password": "wrong"})[0] == 401
        learner.token = learner.call("POST", "/auth/token", account)[1]["access"]
        status, story = learner.call(
            "POST", "/adventures", {"target_language": "es", "theme": THEME}
        )
        assert status == 201, story
        path = f"/adventures/{story['id']}/entries/{story['entries'][0]['id']}"
        entry = wait_for(
            lambda: (body := learner.call("GET", path)[1])["status"] == "complete" and body,
            timeout=90,
            what="the first passage",
        )
        # A content word whose lemma cannot pass for part of an id.
        token = next(
            t
            for t in entry["tokens"]
            if t["pos"] in {"NOUN", "VERB", "ADJ"}
            and len(t["lemma"]) >= 5
            and set(t["lemma"].lower()) - set("abcdef0123456789")
        )
        status, word = learner.call("POST", "/words", {"token_id": token["id"]})
        assert status == 201, word
        review = {"word_id": word["id"], "rating": "good", "review_id": str(uuid.uuid4())}
        status, _ = learner.call("POST", "/reviews", review)
        assert status == 201
        status, _ = learner.call(
            "POST",
            f"/adventures/{story['id']}/decisions",
            {"entry_id": entry["id"], "choice_id": entry["choices"][0]["id"]},
        )
        assert status == 201
        assert learner.call("GET", "/progress?language=es")[0] == 200
        assert learner.call("GET", "/auth/account/export")[0] == 200
        assert learner.call("DELETE", f"/adventures/{story['id']}")[0] == 204
        assert learner.call("DELETE", "/auth/account", {"password": PASSWORD})[0] == 204
        logs = web.output() + worker.output()
    finally:
        web.stop()

    # The session is in the logs, by path and id: the web's requests and the
    # worker's jobs.
    assert f"/api/adventures/{story['id']}" in logs
    assert "/api/auth/account" in logs
    assert f'"entry_id": "{entry["id"]}"' in worker.output()
    assert "generate_adventure_entry started" in worker.output()
    secrets = {
        "username": USERNAME,
        "theme": THEME,
        "a word of the theme": "Wendeline",
        "a sentence of the passage": entry["sentences"][0]["text"],
        "its translation": entry["sentences"][0]["translation"],
        "the saved lemma": f'"{token["lemma"]}"',
        "the lemma in a sentence": f" {token['lemma']} ",
    }
    for what, text in secrets.items():
        # As written, or escaped the way a JSON line may write it.
        forms = {text, json.dumps(text)[1:-1]}
        lines = [line for line in logs.splitlines() if any(form in line for form in forms)]
        assert not lines, f"{what} ({text!r}) is in the logs: {lines[:3]}"
