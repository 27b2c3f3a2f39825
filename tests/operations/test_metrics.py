"""Prometheus metrics: ``GET /metrics`` of the web processes (behind
``METRICS_TOKEN``) and a worker's own port (``WORKER_METRICS_PORT``), scraped
before and after a learner's session with a real worker."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from adventures.models import Entry

from tests.support.database import truncate_jobs
from tests.support.processes import ROOT, subprocess_env, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "a-metrics-token-for-tests"
GENERATE = "adventures.generate_adventure_entry"


def value(text: str, name: str, **labels: str) -> float:
    """The sample ``name`` with ``labels`` (a subset of its labels), summed; 0 if absent."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def scrape_web(client: APIClient) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    return response.content.decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_metrics_are_not_public(client, settings):
    truncate_jobs()  # jobs earlier tests left (Procrastinate's tables outlive a test's flush)
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    settings.METRICS_TOKEN = TOKEN
    for header in ({}, {"HTTP_AUTHORIZATION": "Bearer guess"}):
        response = client.get("/metrics", **header)
        assert response.status_code == 401
        assert response.json() == {
            "detail": "A valid metrics token is required.",
            "code": "not_authenticated",
        }
    text = scrape_web(client)
    assert value(text, "langlearn_oldest_waiting_job_seconds", queue="adventure_pipeline") == 0
    assert value(text, "langlearn_stalled_jobs") == 0


def test_a_learner_session_moves_the_counters(start_worker, settings, tmp_path):
    settings.METRICS_TOKEN = TOKEN
    port = free_port()
    worker = start_worker(
        WORKER_METRICS_PORT=str(port),
        # The first translate call fails (transiently) and is tried again in the step.
        STUB_FAULTS="translate=1",
        PROVIDER_RETRY_WAIT_MIN="0.05",
    )

    def scrape_worker() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            return answer.read().decode()

    before = wait_for(
        lambda: _try(scrape_worker), timeout=60, what=f"the worker's metrics\n{worker.output()}"
    )
    web = APIClient()
    web_before = scrape_web(web)

    # The session: sign up, start a story, read the first passage, decide, read the next.
    web.post(
        "/api/auth/register",
        {"username": "metrics-ana", "password": "a-long-passphrase", "native_language": "en"},
        format="json",
    )
    tokens = web.post(
        "/api/auth/token",
        {"username": "metrics-ana", "password": "a-long-passphrase"},
        format="json",
    ).json()
    learner = APIClient()
    learner.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    adventure = learner.post("/api/adventures", {"target_language": "es"}, format="json").json()
    first = adventure["entries"][0]["id"]
    waiting = scrape_web(web)
    assert (
        value(waiting, "langlearn_jobs", task=GENERATE, status="todo")
        + value(waiting, "langlearn_jobs", task=GENERATE, status="doing")
        + value(waiting, "langlearn_jobs", task=GENERATE, status="succeeded")
        == 1
    )

    def complete(entry_id: str) -> dict | None:
        body = learner.get(f"/api/adventures/{adventure['id']}/entries/{entry_id}").json()
        return body if body["status"] == "complete" else None

    entry = wait_for(lambda: complete(first), timeout=60, what="the first passage")
    decision = learner.post(
        f"/api/adventures/{adventure['id']}/decisions",
        {"entry_id": first, "choice_id": entry["choices"][0]["id"]},
        format="json",
    ).json()
    wait_for(lambda: complete(decision["next_entry"]["id"]), timeout=60, what="the next passage")
    wait_for(
        lambda: (
            value(scrape_worker(), "langlearn_job_duration_seconds_count", task=GENERATE)
            - value(before, "langlearn_job_duration_seconds_count", task=GENERATE)
            == 2
        ),
        timeout=30,
        what="the worker to record both jobs",
    )
    after = scrape_worker()

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Two passages: two jobs succeeded, none retried or failed.
    assert moved("langlearn_job_duration_seconds_count", task=GENERATE, outcome="succeeded") == 2
    assert moved("langlearn_job_retries_total", task=GENERATE) == 0
    assert moved("langlearn_job_failures_total", task=GENERATE) == 0
    # Each step ran twice; the failed translate call shows under its outcome.
    for step in ("generate", "translate", "annotate", "voice"):
        assert moved("langlearn_pipeline_step_duration_seconds_count", step=step) == 2
    assert moved("langlearn_provider_calls_total", provider="anthropic", outcome="ok") == 2
    assert moved("langlearn_provider_calls_total", provider="deepl", outcome="transient") == 1
    assert moved("langlearn_provider_calls_total", provider="deepl", outcome="ok") == 2
    assert moved("langlearn_provider_calls_total", provider="spacy", outcome="ok") == 2
    sentences = sum(
        Entry.objects.get(id=entry_id).sentences.count()
        for entry_id in (first, decision["next_entry"]["id"])
    )
    assert moved("langlearn_provider_calls_total", provider="gemini", outcome="ok") == sentences
    assert moved("langlearn_provider_call_duration_seconds_count", provider="deepl") == 3
    # What the providers billed.
    assert moved("langlearn_llm_tokens_total", direction="input") > 0
    assert moved("langlearn_llm_tokens_total", direction="output") > 0
    assert moved("langlearn_translated_characters_total") > 0
    audio_ms = sum(
        Entry.objects.get(id=entry_id).audio.duration_ms
        for entry_id in (first, decision["next_entry"]["id"])
    )
    assert moved("langlearn_voiced_audio_seconds_total") == pytest.approx(audio_ms / 1000)

    # The web's view of the queue: both jobs succeeded, nothing waiting.
    web_after = scrape_web(web)
    succeeded = "langlearn_jobs"
    assert (
        value(web_after, succeeded, task=GENERATE, status="succeeded")
        - value(web_before, succeeded, task=GENERATE, status="succeeded")
        == 2
    )
    assert value(web_after, "langlearn_jobs", task=GENERATE, status="todo") == 0
    assert value(web_after, "langlearn_oldest_waiting_job_seconds", queue="adventure_pipeline") == 0


def _try(scrape):
    try:
        return scrape()
    except OSError:
        return None


def test_a_taken_metrics_port_stops_the_worker_with_a_clear_message(start_worker):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        worker = start_worker(WORKER_METRICS_PORT=str(port))
        wait_for(lambda: not worker.running(), timeout=60, what="the worker to stop")
    assert worker.process.returncode == 1
    assert f"WORKER_METRICS_PORT: cannot listen on 127.0.0.1:{port}" in worker.output()
    assert "Starting worker on" not in worker.output()


@pytest.mark.slow
def test_a_malformed_metrics_port_stops_the_worker_naming_it(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "procrastinate", "worker"],
        cwd=ROOT,
        env=subprocess_env(tmp_path, WORKER_METRICS_PORT="ninety"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "WORKER_METRICS_PORT must be an integer, not 'ninety'" in result.stderr


@pytest.mark.slow
def test_the_web_processes_metrics_are_summed_under_gunicorn(tmp_path):
    """compose/start-api with two web processes: whichever answers /metrics
    counts the event stream open on either, and forgets it once closed."""
    import http.client
    import os

    from rest_framework_simplejwt.tokens import RefreshToken

    from tests.support.factories import make_adventure, make_user
    from tests.support.processes import Process

    user = make_user(username="streamer")
    adventure = make_adventure(user)
    access = str(RefreshToken.for_user(user).access_token)
    port = free_port()
    env = subprocess_env(
        tmp_path, HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="2", METRICS_TOKEN=TOKEN
    )
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.pop("GUNICORN_CMD_ARGS", None)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    api = Process([str(ROOT / "compose" / "start-api")], env, tmp_path / "api.log")

    def get(path: str, **headers: str) -> tuple[int, str]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode()
        except OSError:
            return 0, ""
        finally:
            connection.close()

    def streams_open() -> set[float]:
        """What several scrapes (spread over the processes) say."""
        seen = set()
        for _ in range(6):
            status, text = get("/metrics", Authorization=f"Bearer {TOKEN}")
            assert status == 200, text
            assert value(text, "langlearn_queue_readable") == 1
            seen.add(value(text, "langlearn_event_streams_open"))
        return seen

    try:
        wait_for(
            lambda: api.running() and get("/healthz")[0] == 200,
            timeout=90,
            what=f"gunicorn to serve\n{api.output()}",
        )
        assert streams_open() == {0}
        stream = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        stream.request(
            "GET",
            f"/api/adventures/{adventure.id}/events",
            headers={"Authorization": f"Bearer {access}"},
        )
        response = stream.getresponse()
        assert response.status == 200
        assert response.readline().startswith(b"retry:")
        wait_for(lambda: streams_open() == {1}, timeout=30, what="the open stream to count")
        stream.close()
        wait_for(lambda: streams_open() == {0}, timeout=30, what="the closed stream to go")
    finally:
        api.stop()
