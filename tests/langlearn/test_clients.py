"""Clients generated from the schema by tools nobody here wrote work first time.

- ``openapi-python-client`` generates a Python client from ``/api/schema/`` of a
  live server (gunicorn under ASGI, a real worker), without a warning and with
  a function for every operation; a whole learner session then goes through it,
  export and events stream included. Every answer it parses has every field
  set (a field the schema leaves optional comes back ``Unset``) and none the
  schema lacks (those land in ``additional_properties``).
- ``openapi-typescript`` (npm, installed by ``run.py setup`` where node is)
  turns the schema into TypeScript, and ``tsc --strict`` checks assertions on
  those types: every field an answer carries required, the export's body a
  string under ``application/octet-stream``, the events stream a string.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import shutil
import subprocess
import sys
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.langlearn.test_api_schema import _response_components
from tests.support.processes import ROOT, wait_for
from tests.support.server import asgi_server

PACKAGE = "langlearn_client"
TYPESCRIPT = ROOT / "tests" / "support" / "typescript"


@pytest.fixture
def served(tmp_path: Path, start_worker) -> Iterator[str]:
    """gunicorn (ASGI, as everywhere) and a worker, on this test's database;
    stories two passages long."""
    env = {"STORY_LENGTH": "2", "EVENTS_STREAM_SECONDS": "20"}
    worker = start_worker(**env)
    with asgi_server(tmp_path, **env) as (base, _):
        yield base
    if not worker.running():
        print(worker.output())


def _schema(base: str) -> dict:
    with urllib.request.urlopen(f"{base}/api/schema/?format=json", timeout=30) as response:
        return json.loads(response.read())


# --- the Python client -----------------------------------------------------------------


def _generate(schema_file: Path, out: Path) -> str:
    result = subprocess.run(
        [
            str(ROOT / ".venv/bin/openapi-python-client"),
            "generate",
            "--path",
            str(schema_file),
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
        ],
        cwd=out,
        # Its post-hooks run ruff, from the virtualenv.
        env={"PATH": f"{ROOT / '.venv/bin'}:/usr/bin:/bin", "HOME": str(out)},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


class Generated:
    """The generated package, imported from where it was written."""

    def __init__(self, folder: Path, base: str) -> None:
        sys.path.insert(0, str(folder))
        self.folder = folder
        self.package = importlib.import_module(PACKAGE)
        self.models = importlib.import_module(f"{PACKAGE}.models")
        self.types = importlib.import_module(f"{PACKAGE}.types")
        self.base = base
        self.anonymous = self.package.Client(base_url=base, raise_on_unexpected_status=True)
        self.seen: list[Any] = []

    def close(self) -> None:
        sys.path.remove(str(self.folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]

    def authenticated(self, token: str) -> Any:
        return self.package.AuthenticatedClient(
            base_url=self.base, token=token, raise_on_unexpected_status=True, timeout=30.0
        )

    def call(self, operation: str, expect: int, /, **kwargs: Any) -> Any:
        """``sync_detailed`` of ``api/<tag>/<operation>``: the parsed answer."""
        tag = operation.split("_")[0]
        module = importlib.import_module(f"{PACKAGE}.api.{tag}.{operation}")
        response = module.sync_detailed(**kwargs)
        assert response.status_code == expect, (operation, response.status_code, response.content)
        self.seen.append(response.parsed)
        return response.parsed

    def unset_or_extra(self, value: Any, path: str = "") -> list[str]:
        """Fields of parsed answers typed or left ``Unset`` (optional in the
        schema, or missing), or not in the schema."""
        if isinstance(value, list):
            return [
                p for i, item in enumerate(value) for p in self.unset_or_extra(item, f"{path}[{i}]")
            ]
        if not hasattr(type(value), "__attrs_attrs__") or isinstance(value, self.types.File):
            return []
        found = []
        for attribute in type(value).__attrs_attrs__:
            field = getattr(value, attribute.name)
            where = f"{path}{type(value).__name__}.{attribute.name}"
            if attribute.name == "additional_properties":
                found += [f"{where}[{key!r}]" for key in field]
            elif isinstance(field, self.types.Unset) or "Unset" in str(attribute.type):
                found.append(where)
            else:
                found += self.unset_or_extra(field, f"{where} > ")
        return found


def _events(text: str) -> list[dict[str, Any]]:
    """The events of a stream's text: {"id", "event", "data"} per block with data."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, Any] = {"event": "message"}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            if name in ("id", "event", "data"):
                fields[name] = value.removeprefix(" ")
        if "data" in fields:
            events.append(fields)
    return events


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_generated_python_client_drives_a_whole_learner_session(tmp_path, served):
    schema = _schema(served)
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(json.dumps(schema))
    output = _generate(schema_file, tmp_path)
    assert "Warning" not in output, output  # e.g. an operation or answer skipped
    operations = {
        (item[method]["tags"][0], item[method]["operationId"])
        for item in schema["paths"].values()
        for method in item
    }
    missing = [
        op for tag, op in operations if not (tmp_path / PACKAGE / "api" / tag / f"{op}.py").exists()
    ]
    assert missing == []

    client = Generated(tmp_path, served)
    try:
        _session(client, served)
    finally:
        client.close()


def _session(g: Generated, base: str) -> None:
    m = g.models
    credentials = {"username": f"gen-{uuid.uuid4().hex[:8]}", "password": "a-long-passphrase"}
    g.call(
        "auth_register_create",
        201,
        client=g.anonymous,
        body=m.RegistrationRequest(**credentials, native_language=m.NativeLanguageEnum("en")),
    )
    pair = g.call(
        "auth_token_create", 200, client=g.anonymous, body=m.TokenObtainPairRequest(**credentials)
    )
    me = g.authenticated(pair.access)
    languages = g.call("languages_retrieve", 200, client=me)
    assert "es" in [language.code for language in languages.target_languages]

    adventure = g.call(
        "adventures_create",
        201,
        client=me,
        body=m.AdventureCreateRequest(
            target_language=m.TargetLanguageEnum("es"), level=m.LevelEnum("A1"), theme="the sea"
        ),
    )
    assert adventure.status == m.AdventureStatusEnum.AWAITING_FIRST_ENTRY
    assert g.call("adventures_events_ticket_create", 201, client=me, adventure_id=adventure.id)

    def status_of() -> Any:
        found = g.call("adventures_retrieve", 200, client=me, adventure_id=adventure.id)
        return found if found.status != m.AdventureStatusEnum.AWAITING_FIRST_ENTRY else None

    active = wait_for(status_of, timeout=90, interval=0.3, what="the first passage")
    assert active.status == m.AdventureStatusEnum.ACTIVE
    first = g.call(
        "adventures_entries_retrieve",
        200,
        client=me,
        adventure_id=adventure.id,
        entry_id=active.entries[0].id,
    )
    assert first.status == m.EntryStatusEnum.COMPLETE
    assert first.text
    assert first.sentences
    assert first.choices
    assert first.tokens

    # Words: save one from the passage, read it, list, review it, then the rest known.
    token = next(t for t in first.tokens if t.pos in ("NOUN", "VERB", "ADJ"))
    word = g.call("words_create", 201, client=me, body=m.WordCreateRequest(token_id=token.id))
    assert word.lemma == token.lemma
    assert g.call("words_retrieve", 200, client=me, word_id=word.id).to_dict() == word.to_dict()
    page = g.call("words_list", 200, client=me)
    assert (page.count, page.next_, page.previous) == (1, None, None)
    (due,) = g.call("reviews_list", 200, client=me, language=m.ReviewsListLanguage("es"))
    assert due.word_id == word.id
    reviewed = g.call(
        "reviews_create",
        201,
        client=me,
        body=m.ReviewCreateRequest(
            word_id=word.id, rating=m.RatingEnum("good"), review_id=uuid.uuid4()
        ),
    )
    assert reviewed.word_id == word.id
    known = g.call(
        "adventures_entries_known_create",
        200,
        client=me,
        adventure_id=adventure.id,
        entry_id=first.id,
    )
    assert known.already_saved == 1

    # The story's end: its last passage, then the events stream replays it all.
    decision = g.call(
        "adventures_decisions_create",
        201,
        client=me,
        adventure_id=adventure.id,
        body=m.DecisionCreateRequest(entry_id=first.id, choice_id=first.choices[0].id),
    )

    def completed() -> Any:
        found = g.call("adventures_retrieve", 200, client=me, adventure_id=adventure.id)
        return found if found.status == m.AdventureStatusEnum.COMPLETED else None

    wait_for(completed, timeout=90, interval=0.3, what="the story to complete")
    last = g.call(
        "adventures_entries_retrieve",
        200,
        client=me,
        adventure_id=adventure.id,
        entry_id=decision.next_entry.id,
    )
    assert last.choices == []
    ticket = g.call("adventures_events_ticket_create", 201, client=me, adventure_id=adventure.id)
    stream = g.call(
        "adventures_events_stream",
        200,
        client=g.anonymous,
        adventure_id=adventure.id,
        ticket=ticket.ticket,
    )
    assert isinstance(stream, str)
    *changes, end = _events(stream)
    assert end["event"] == "end"
    assert m.AdventureEndEvent.from_dict(json.loads(end["data"])).adventure_status == (
        m.AdventureStatusEnum.COMPLETED
    )
    parsed = [m.AdventureEvent.from_dict(json.loads(event["data"])) for event in changes]
    assert {(event.position, event.status) for event in parsed} >= {
        (1, m.EntryStatusEnum.COMPLETE),
        (2, m.EntryStatusEnum.COMPLETE),
    }
    assert all(not event.additional_properties for event in parsed)

    # Progress, placement, the list of stories, the digests.
    progress = g.call(
        "progress_retrieve", 200, client=me, language=m.ProgressRetrieveLanguage("es")
    )
    assert progress.passages_read >= 1
    test = g.call("placement_retrieve", 200, client=me, language=m.PlacementRetrieveLanguage("es"))
    g.call(
        "placement_create",
        201,
        client=me,
        language=m.PlacementCreateLanguage("es"),
        body=m.PlacementAnswersRequest(
            answers=[m.PlacementAnswerRequest(id=item.id, known=False) for item in test.items]
        ),
    )
    stories = g.call("adventures_list", 200, client=me)
    assert [story.id for story in stories.results] == [adventure.id]
    g.call("digests_list", 200, client=me, language=m.DigestsListLanguage("es"))

    # The export, as bytes, in both formats.
    apkg = g.call(
        "words_export_retrieve",
        200,
        client=me,
        language=m.WordsExportRetrieveLanguage("es"),
        format_=m.WordsExportRetrieveFormat("apkg"),
        status="learning,known",
    )
    with zipfile.ZipFile(io.BytesIO(apkg.payload.read())) as archive:
        assert "collection.anki2" in archive.namelist()
    exported = g.call(
        "words_export_retrieve",
        200,
        client=me,
        language=m.WordsExportRetrieveLanguage("es"),
        format_=m.WordsExportRetrieveFormat("csv"),
    )
    rows = list(csv.DictReader(io.StringIO(exported.payload.read().decode("utf-8"))))
    assert [(row["lemma"], row["status"]) for row in rows] == [(word.lemma, "learning")]

    # Forgetting the word; signing out.
    g.call("words_destroy", 204, client=me, word_id=word.id)
    gone = g.call("words_retrieve", 404, client=me, word_id=word.id)
    assert gone.code == "not_found"
    pair = g.call(
        "auth_token_refresh_create",
        200,
        client=g.anonymous,
        body=m.TokenRefreshInputRequest(refresh=pair.refresh),
    )
    g.call(
        "auth_logout_create",
        204,
        client=g.authenticated(pair.access),
        body=m.LogoutInputRequest(refresh=pair.refresh),
    )

    # Every answer of the session, parsed: nothing Unset, nothing unknown.
    assert [where for answer in g.seen for where in g.unset_or_extra(answer)] == []


# --- TypeScript ------------------------------------------------------------------------

CHECKS = """\
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type OptionalKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T];
// Fails to compile, naming the field, when an answer's field is optional.
type NoneOptional<T extends never> = T;
type IsString<T> = [T] extends [string] ? true : false;
type True<T extends true> = T;

type ExportBody =
  paths["/api/words/export"]["get"]["responses"][200]["content"]["application/octet-stream"];
type EventsBody =
  paths["/api/adventures/{adventure_id}/events"]["get"]["responses"][200]["content"]["text/event-stream"];
type WordRead =
  paths["/api/words/{word_id}"]["get"]["responses"][200]["content"]["application/json"];

export type Checks = [
  True<IsString<ExportBody>>,
  True<IsString<EventsBody>>,
  True<WordRead extends Schemas["Word"] ? true : false>,
__COMPONENTS__
];
"""


@pytest.mark.django_db
@pytest.mark.slow
def test_typescript_types_generated_from_the_schema_have_every_answer_field_required(tmp_path, api):
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the TypeScript half needs node and npm")
    bin_ = TYPESCRIPT / "node_modules" / ".bin"
    assert (bin_ / "openapi-typescript").exists(), (
        "openapi-typescript is not installed: python3 run.py setup installs it (npm ci)"
    )
    schema = api.get("/api/schema/?format=json").json()
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    generated = subprocess.run(
        [str(bin_ / "openapi-typescript"), "schema.json", "--output", "schema.d.ts"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    components = sorted(_response_components(schema))
    checks = ",\n".join(
        f'  NoneOptional<OptionalKeys<Schemas["{name}"]>>'
        for name in components
        if schema["components"]["schemas"][name].get("type") == "object"
    )
    (tmp_path / "checks.ts").write_text(CHECKS.replace("__COMPONENTS__", checks))
    checked = subprocess.run(
        [str(bin_ / "tsc"), "--strict", "--noEmit", "--skipLibCheck", "checks.ts"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
