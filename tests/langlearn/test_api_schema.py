"""The OpenAPI schema tells the truth (issue 11, item 9): drf-spectacular
validates it without a warning, and schemathesis, run against a live server,
finds no response that contradicts it."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from langlearn import languages

from tests.support.processes import ASGI, ROOT, Process, subprocess_env, wait_for


@pytest.mark.slow
def test_the_schema_validates_without_a_warning(tmp_path):
    out = tmp_path / "schema.yaml"
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "spectacular",
            "--validate",
            "--fail-on-warn",
            "--file",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Warning" not in result.stderr
    schema = yaml.safe_load(out.read_text())
    components, paths = schema["components"]["schemas"], schema["paths"]

    # Each body has its own component (no more shared "InputRequest"/"Output").
    def body_of(path: str, method: str) -> str:
        return paths[path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]

    assert body_of("/api/auth/register", "post").endswith("/RegistrationRequest")
    assert body_of("/api/adventures", "post").endswith("/AdventureCreateRequest")
    assert body_of("/api/adventures/{adventure_id}/decisions", "post").endswith(
        "/DecisionCreateRequest"
    )
    # The list is a page.
    listing = paths["/api/adventures"]["get"]["responses"]["200"]["content"]
    assert listing["application/json"]["schema"]["$ref"].endswith("/PaginatedAdventureList")
    # Language codes and levels are enums, from the registry.
    assert components["TargetLanguageEnum"]["enum"] == [
        lang.code for lang in languages.target_languages()
    ]
    assert components["NativeLanguageEnum"]["enum"] == [
        lang.code for lang in languages.native_languages()
    ]
    assert components["LevelEnum"]["enum"] == ["A1", "A2", "B1", "B2", "C1", "C2"]
    assert "pending" in components["EntryStatusEnum"]["enum"]
    assert "active" in components["AdventureStatusEnum"]["enum"]
    # Error answers are documented, with the shared error body.
    decisions = paths["/api/adventures/{adventure_id}/decisions"]["post"]["responses"]
    assert {"400", "401", "404", "409", "503"} <= set(decisions)
    assert decisions["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert {"429"} <= set(paths["/api/auth/register"]["post"]["responses"])
    assert set(components["Error"]["properties"]) == {"detail", "code"}


# --- schemathesis against a live server -----------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, body: dict, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_schemathesis_finds_no_schema_violations(tmp_path: Path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = Process(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            *ASGI,
            "--bind",
            f"127.0.0.1:{port}",
        ],
        subprocess_env(
            tmp_path,
            DEBUG="false",
            SECRET_KEY="a-test-secret-key-that-is-long-enough-for-django",
            ALLOWED_HOSTS="127.0.0.1",
            # The events stream of the real adventure below closes at once
            # rather than waiting for changes that never come.
            EVENTS_STREAM_SECONDS="0.5",
            # Throttles would answer 429 (documented) and leave the views untested.
            THROTTLE_REGISTER="100000/hour",
            THROTTLE_LOGIN="100000/minute",
            THROTTLE_ADVENTURE_CREATE="100000/hour",
            DJANGO_SETTINGS_MODULE="tests.support.fast_hasher_settings",
        ),
        tmp_path / "gunicorn.log",
    )
    try:

        def answering() -> bool:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                    return response.status == 200
            except OSError:
                return False

        wait_for(answering, timeout=60, what="gunicorn to answer")
        credentials = {"username": "schemathesis", "password": "a-long-passphrase"}
        _post(f"{base}/api/auth/register", credentials)
        token = _post(f"{base}/api/auth/token", credentials)["access"]
        adventure = _post(f"{base}/api/adventures", {"target_language": "es"}, token)
        # Real ids, so that the operations under an adventure reach their logic.
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            (ROOT / "schemathesis.toml").read_text()
            + "\n[parameters]\n"
            + f'"path.adventure_id" = "{adventure["id"]}"\n'
            + f'"path.entry_id" = "{adventure["entries"][0]["id"]}"\n'
        )
        result = subprocess.run(
            [
                str(ROOT / ".venv/bin/schemathesis"),
                "--config-file",
                str(config),
                "run",
                f"{base}/api/schema/",
                # Every check is on by default; "--checks all" would also
                # override the per-operation settings of schemathesis.toml.
                "--header",
                f"Authorization: Bearer {token}",
                "--max-examples",
                "10",
                "--seed",
                "1",
                "--workers",
                "1",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=240,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # Every operation of the schema was exercised (none skipped as untestable).
    selected = re.search(r"Selected: (\d+)/(\d+)", result.stdout)
    tested = re.search(r"Tested: (\d+)", result.stdout)
    assert selected, result.stdout[-3000:]
    assert tested, result.stdout[-3000:]
    assert selected[1] == selected[2] == tested[1]
    assert "no issues found" in result.stdout.lower() or " passed" in result.stdout


# --- what schemathesis found, one by one ----------------------------------------------


@pytest.mark.django_db
def test_strings_are_strings(api, anonymous):
    # DRF turns a number into a string; the schema says string, so it is a 400.
    theme = api.post("/api/adventures", {"target_language": "es", "theme": 0}, format="json")
    assert theme.status_code == 400
    assert "theme" in theme.json()
    registration = anonymous.post(
        "/api/auth/register", {"username": 12345, "password": "a-long-passphrase"}, format="json"
    )
    assert registration.status_code == 400
    assert "username" in registration.json()


@pytest.mark.django_db
def test_page_size_outside_the_schema_is_a_400(api):
    for bad in ("0", "-1", "abc", "1.5"):
        response = api.get(f"/api/adventures?page_size={bad}")
        assert response.status_code == 400, bad
        assert "page_size" in response.json()
    assert api.get("/api/adventures?page_size=1000").status_code == 200  # 100 at most
    schema = api.get("/api/schema/?format=json").json()
    [size] = [
        p
        for p in schema["paths"]["/api/adventures"]["get"]["parameters"]
        if p["name"] == "page_size"
    ]
    assert size["schema"]["minimum"] == 1


# --- what typed clients generated from the schema rely on -----------------------------


def _schema(api) -> dict:
    response = api.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _refs(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if "$ref" in node else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def _response_components(schema: dict) -> set[str]:
    """Every component an answer carries, nested ones included."""
    components = schema["components"]["schemas"]
    found = _refs([op["responses"] for item in schema["paths"].values() for op in item.values()])
    while True:
        more = found | set().union(*(_refs(components[name]) for name in found))
        if more == found:
            return found
        found = more


@pytest.mark.django_db
def test_every_field_an_answer_carries_is_required(api):
    # A typed client makes a field that is not required "X | Unset"; every
    # serializer of ours writes all its fields (null where there is none).
    schema = _schema(api)
    components = schema["components"]["schemas"]
    names = _response_components(schema)
    assert {"Adventure", "Entry", "Token", "Word", "PaginatedWordList"} <= names
    optional = {
        f"{name}.{field}"
        for name in names
        for field in components[name].get("properties", {})
        if field not in components[name].get("required", [])
    }
    assert optional == set()
    page = components["PaginatedAdventureList"]["properties"]
    assert page["next"]["nullable"] is True
    assert page["previous"]["nullable"] is True


def _readable(media_type: str, body: dict) -> bool:
    """What generators read: JSON, bytes as application/octet-stream, text as a string."""
    if media_type == "application/json":
        return True
    if media_type == "application/octet-stream":
        return body == {"type": "string", "format": "binary"}
    return media_type.startswith("text/") and body.get("type") == "string" and "format" not in body


@pytest.mark.django_db
def test_every_answer_has_a_media_type_generators_read_first(api):
    # openapi-python-client takes the first media type it knows (any text/*
    # as text, application/octet-stream as bytes, JSON) and skips the rest.
    unreadable = []
    for path, item in _schema(api)["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                content = response.get("content")
                if content:
                    media_type, body = next(iter(content.items()))
                    if not _readable(media_type, body["schema"]):
                        unreadable.append(f"{method.upper()} {path} {status} {media_type}")
    assert unreadable == []


@pytest.mark.django_db
def test_the_schema_has_every_operation_clients_use(api):
    schema = _schema(api)
    operations = {
        (method.upper(), path) for path, item in schema["paths"].items() for method in item
    }
    assert {
        ("GET", "/api/words/{word_id}"),
        ("PATCH", "/api/words/{word_id}"),
        ("DELETE", "/api/words/{word_id}"),
        ("GET", "/api/words/export"),
        ("GET", "/api/adventures/{adventure_id}/events"),
        ("POST", "/api/adventures/{adventure_id}/events/ticket"),
    } <= operations
    export = schema["paths"]["/api/words/export"]["get"]["responses"]["200"]["content"]
    assert list(export) == ["application/octet-stream", "application/apkg", "text/csv"]
    events = schema["paths"]["/api/adventures/{adventure_id}/events"]["get"]
    assert events["responses"]["200"]["content"]["text/event-stream"]["schema"]["type"] == "string"
    assert {"eventTicket": []} in events["security"]
    assert schema["components"]["securitySchemes"]["eventTicket"] == {
        "type": "apiKey",
        "in": "query",
        "name": "ticket",
        "description": "A ticket from POST /api/adventures/{adventure_id}/events/ticket.",
    }
    assert "ticket" in {parameter["name"] for parameter in events["parameters"]}
    assert schema["components"]["schemas"]["AdventureEvent"]["required"] == [
        "id",
        "position",
        "status",
        "adventure_status",
    ]
