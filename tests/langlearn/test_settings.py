"""Configuration fails loudly instead of running insecurely."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.processes import ROOT, subprocess_env

pytestmark = pytest.mark.slow


def check(tmp_path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=subprocess_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    result = check(tmp_path, DEBUG="false", ALLOWED_HOSTS="example.org", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is false" in result.stderr


def test_production_reads_the_secret_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("x" * 60)
    result = check(
        tmp_path, DEBUG="false", ALLOWED_HOSTS="example.org", SECRET_KEY_FILE=str(secret)
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
        ({"WORKER_CONCURRENCY": "lots"}, "WORKER_CONCURRENCY must be an integer"),
        ({"STUB_LATENCY_MS": "generate=soon"}, "STUB_LATENCY_MS"),
        ({"DATABASE_URL": "mysql://x@localhost/db"}, "DATABASE_URL must be a postgresql"),
        ({"STORAGE_BACKEND": "floppy"}, "STORAGE_BACKEND must be"),
        ({"GEMINI_VOICES": "es:Kore"}, "GEMINI_VOICES: expected key=value items, got 'es:Kore'"),
        ({"GEMINI_VOICES": "xx=Kore"}, "GEMINI_VOICES: 'xx' is not one of"),
        ({"SPACY_MODELS": "fr=fr_core_news_sm,fr=x"}, "SPACY_MODELS: 'fr' is given twice"),
        (
            {"NEWS_ALLOW_PRIVATE_HOSTS": "10.0.0.0/8,intranet"},
            "NEWS_ALLOW_PRIVATE_HOSTS must be true, false or addresses/networks",
        ),
        ({"NEWS_FETCH_MAX_BYTES": "2MB"}, "NEWS_FETCH_MAX_BYTES must be an integer"),
        ({"DIGEST_CRON": "at two"}, "DIGEST_CRON: not a cron expression: 'at two'"),
        ({"HISTORY_PRUNE_CRON": "daily"}, "HISTORY_PRUNE_CRON: not a cron expression: 'daily'"),
        ({"STORAGE_GC_CRON": "daily"}, "STORAGE_GC_CRON: not a cron expression: 'daily'"),
        ({"EVENTS_RETENTION_DAYS": "0"}, "EVENTS_RETENTION_DAYS"),
        ({"DIGEST_LANGUAGES": "es,ja"}, "DIGEST_LANGUAGES: We cannot teach 'ja' yet."),
        ({"DIGEST_LEVELS": "A2,D1"}, "DIGEST_LEVELS: 'D1' is not a CEFR level"),
        ({"DIGEST_NATIVE_LANGUAGES": "xx"}, "DIGEST_NATIVE_LANGUAGES: "),
        ({"WORKER_WARM_LANGUAGES": "es,ja"}, "WORKER_WARM_LANGUAGES: We cannot teach 'ja' yet."),
        (
            {"WORKER_STALLED_TIMEOUT": "8"},
            "WORKER_STALLED_TIMEOUT (8 s) must be at least twice WORKER_HEARTBEAT_INTERVAL (5 s)",
        ),
        ({"STALLED_RESCUE_INTERVAL": "0"}, "STALLED_RESCUE_INTERVAL must be more than 0"),
        ({"WORKER_HEARTBEAT_INTERVAL": "often"}, "WORKER_HEARTBEAT_INTERVAL must be a number"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path, env, message):
    result = check(tmp_path, **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_maps_replace_defaults_per_key_and_refuse_malformed_items(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from langlearn.env import env_map

    monkeypatch.setenv("VOICES", " es = Puck , fr=Leda ")
    assert env_map("VOICES", keys=frozenset({"es", "fr"})) == {"es": "Puck", "fr": "Leda"}
    monkeypatch.delenv("VOICES")
    assert env_map("VOICES") == {}
    for bad in ("es", "es=", "=Puck", "es=Puck,es=Kore"):
        monkeypatch.setenv("VOICES", bad)
        with pytest.raises(ImproperlyConfigured, match="VOICES"):
            env_map("VOICES")
