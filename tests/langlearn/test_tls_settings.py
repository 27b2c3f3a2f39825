"""TLS and cookie settings come from the environment, are on in the production
compose stack, and pass ``check --deploy`` there (issue 11, item 5)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from adventures.models import Entry

from tests.support.api import client_for
from tests.support.factories import make_user
from tests.support.pipeline import run_pipeline
from tests.support.processes import ROOT, subprocess_env

BIN = Path(sys.executable).parent
# What an operator puts in the production env file (a real-length key).
PROD_ENV_FILE = {
    "POSTGRES_PASSWORD": "pg-secret",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "langlearn.example",
    "ANTHROPIC_API_KEY": "sk-ant-test",
    "DEEPL_API_KEY": "deepl-test:fx",
    "GEMINI_API_KEY": "gemini-test",
    "BUNNY_STORAGE_ZONE": "langlearn-audio",
    "BUNNY_STORAGE_API_KEY": "bunny-storage-password",
    "BUNNY_PULL_ZONE_URL": "https://langlearn.b-cdn.net",
}
SECURITY_SETTINGS = (
    "TRUSTED_PROXIES",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
)


@pytest.fixture(scope="module")
def prod_api_env() -> dict[str, str]:
    """The api service's environment as ``docker-compose config`` renders the
    production stack (no Docker engine needed)."""
    result = subprocess.run(
        [
            str(BIN / "docker-compose"),
            "--env-file",
            os.devnull,
            "-f",
            str(ROOT / "compose" / "docker-compose-prod.yml"),
            "config",
            "--format",
            "json",
        ],
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **PROD_ENV_FILE},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    env = json.loads(result.stdout)["services"]["api"]["environment"]
    return {name: str(value) for name, value in env.items()}


def manage(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**subprocess_env(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def prod_settings(prod_api_env, tmp_path_factory) -> dict:
    """The security settings a production process ends up with."""
    names = json.dumps(SECURITY_SETTINGS)
    script = (
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names}}}))"
    )
    result = manage(tmp_path_factory.mktemp("prod"), prod_api_env, "shell", "-c", script)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# Schema naming collisions between serializers that predate issue 11, which its
# item 9 fixes elsewhere; nothing else may warn.
@pytest.mark.slow
def test_check_deploy_passes_with_the_production_stack_environment(prod_api_env, tmp_path):
    security = manage(
        tmp_path, prod_api_env, "check", "--deploy", "--tag", "security", "--fail-level", "WARNING"
    )
    assert security.returncode == 0, security.stdout + security.stderr
    assert "System check identified no issues" in security.stdout

    result = manage(tmp_path, prod_api_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_check_deploy_fails_without_them(prod_api_env, tmp_path):
    plain = {k: v for k, v in prod_api_env.items() if k not in SECURITY_SETTINGS}
    result = manage(tmp_path, plain, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W004" in result.stderr  # no HSTS


@pytest.mark.slow
def test_the_production_stack_turns_tls_on_and_trusts_one_proxy(prod_settings):
    assert prod_settings == {
        "TRUSTED_PROXIES": 1,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
    }


def test_development_defaults_leave_them_off(settings):
    assert settings.SECURE_PROXY_SSL_HEADER is None
    assert not settings.SECURE_SSL_REDIRECT
    assert settings.SECURE_HSTS_SECONDS == 0
    assert not settings.SESSION_COOKIE_SECURE


@pytest.mark.slow
@pytest.mark.django_db
def test_behind_a_tls_proxy_audio_and_page_links_are_https(settings, prod_settings):
    # The production process's proxy settings, in this process.
    settings.SECURE_PROXY_SSL_HEADER = tuple(prod_settings["SECURE_PROXY_SSL_HEADER"])
    settings.SECURE_SSL_REDIRECT = prod_settings["SECURE_SSL_REDIRECT"]
    api = client_for(make_user())
    # What a proxy on another address (not loopback) forwards.
    proxied = {
        "REMOTE_ADDR": "172.18.0.1",
        "HTTP_HOST": "testserver",
        "HTTP_X_FORWARDED_PROTO": "https",
    }
    for _ in range(2):
        created = api.post("/api/adventures", {"target_language": "es"}, format="json", **proxied)
        assert created.status_code == 201
    adventure = created.json()
    run_pipeline(Entry.objects.get(id=adventure["entries"][0]["id"]))

    page = api.get("/api/adventures?page_size=1", **proxied).json()
    assert page["next"].startswith("https://testserver/api/adventures?")
    entry = api.get(
        f"/api/adventures/{adventure['id']}/entries/{adventure['entries'][0]['id']}", **proxied
    ).json()
    assert entry["audio"]["url"].startswith("https://testserver/media/audio/")

    # Plain http reaching the app (not through the proxy) is sent to https,
    # except the container's own health check.
    redirected = api.get("/api/adventures", REMOTE_ADDR="172.18.0.1", HTTP_HOST="testserver")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/api/adventures"
    assert api.get("/healthz").status_code == 200
