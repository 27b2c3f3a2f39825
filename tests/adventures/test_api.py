"""The learner API contract of PRODUCT.md, case by case (no worker: the
pipeline runs in-process where an entry must be complete)."""

from __future__ import annotations

import uuid

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob
from rest_framework.throttling import ScopedRateThrottle

from adventures.models import Adventure, Decision, Entry

from tests.support.api import client_for
from tests.support.factories import make_user
from tests.support.pipeline import run_pipeline

pytestmark = pytest.mark.django_db


def create(api, **data):
    return api.post("/api/adventures", {"target_language": "es", **data}, format="json")


def jobs_for(entry_id) -> list[ProcrastinateJob]:
    return [j for j in ProcrastinateJob.objects.all() if j.args.get("entry_id") == str(entry_id)]


def complete_first_entry(api) -> tuple[dict, Entry]:
    adventure = create(api).json()
    entry = run_pipeline(Entry.objects.get(id=adventure["entries"][0]["id"]))
    return adventure, entry


# --- languages ---------------------------------------------------------------------------


def test_languages_lists_what_we_teach_and_translate_into(api):
    body = api.get("/api/languages").json()
    targets = {item["code"]: item["name"] for item in body["target_languages"]}
    natives = {item["code"] for item in body["native_languages"]}
    assert targets == {
        "es": "Spanish",
        "fr": "French",
        "de": "German",
        "it": "Italian",
        "pt": "Portuguese",
    }
    assert "en" in natives


# --- creating ----------------------------------------------------------------------------


def test_create_answers_the_adventure_with_a_pending_first_entry(api, learner):
    response = create(api, level="B1", theme="a storm at sea", native_language="de")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "target_language",
        "native_language",
        "level",
        "theme",
        "title",
        "status",
        "created_at",
        "updated_at",
        "entries",
    }
    assert body["status"] == "awaiting_first_entry"
    assert body["level"] == "B1"
    assert body["native_language"] == "de"
    assert body["title"] == ""
    [entry] = body["entries"]
    assert entry["position"] == 1
    assert entry["status"] == "pending"


def test_create_defers_exactly_one_job_for_the_first_entry(api, learner):
    body = create(api).json()
    entry_id = body["entries"][0]["id"]
    [job] = jobs_for(entry_id)
    assert job.task_name == "adventures.generate_adventure_entry"
    assert job.queue_name == "adventure_pipeline"
    assert job.status == "todo"
    assert job.args == {
        "adventure_id": body["id"],
        "entry_id": entry_id,
        "user_id": str(learner.id),
    }
    assert job.lock == f"adventure:{body['id']}"
    assert job.queueing_lock == f"entry:{entry_id}"


def test_create_defaults_level_and_native_language_from_the_learner(db):
    api = client_for(make_user("pierre", native_language="fr"))
    body = create(api).json()
    assert body["level"] == "A2"
    assert body["native_language"] == "fr"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"target_language": "xx"}, "target_language"),
        ({"target_language": "ja"}, "target_language"),
        ({"native_language": "zz"}, "native_language"),
        ({"target_language": "es", "native_language": "es"}, "native_language"),
        ({"level": "D1"}, "level"),
        ({"theme": "x" * 201}, "theme"),
        ({"target_language": None}, "target_language"),
    ],
)
def test_create_rejects_bad_input_with_field_errors(api, data, field):
    response = create(api, **data)
    assert response.status_code == 400
    assert field in response.json()
    assert not Adventure.objects.exists()
    assert not ProcrastinateJob.objects.exists()


def test_create_needs_a_target_language(api):
    response = api.post("/api/adventures", {}, format="json")
    assert response.status_code == 400
    assert "target_language" in response.json()


def test_create_is_throttled(api, monkeypatch):
    rates = {**ScopedRateThrottle.THROTTLE_RATES, "adventure_create": "2/hour"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    assert [create(api).status_code for _ in range(3)] == [201, 201, 429]
    assert api.get("/api/adventures").status_code == 200  # reading is not throttled


# --- reading -----------------------------------------------------------------------------


def test_list_shows_only_own_adventures_newest_first_paginated(api):
    ids = [create(api).json()["id"] for _ in range(3)]
    create(client_for(make_user("other")))
    assert api.get("/api/adventures").json()["count"] == 3
    page = api.get("/api/adventures?page_size=2").json()
    assert page["count"] == 3
    assert [a["id"] for a in page["results"]] == ids[::-1][:2]
    assert page["next"]
    assert page["previous"] is None
    second = api.get("/api/adventures?page_size=2&page=2").json()
    assert [a["id"] for a in second["results"]] == [ids[0]]
    assert api.get("/api/adventures?page=9").status_code == 404


def test_someone_elses_adventure_and_entry_are_404(api):
    other = client_for(make_user("other"))
    theirs = create(other).json()
    entry_id = theirs["entries"][0]["id"]
    assert api.get(f"/api/adventures/{theirs['id']}").status_code == 404
    assert api.get(f"/api/adventures/{theirs['id']}/entries/{entry_id}").status_code == 404
    decision = api.post(
        f"/api/adventures/{theirs['id']}/decisions",
        {"entry_id": entry_id, "choice_id": str(uuid.uuid4())},
        format="json",
    )
    assert decision.status_code == 404
    assert api.post(f"/api/adventures/{theirs['id']}/entries/{entry_id}/retry").status_code == 404
    assert other.get(f"/api/adventures/{theirs['id']}").status_code == 200


def test_unknown_and_malformed_ids_are_404(api):
    assert api.get(f"/api/adventures/{uuid.uuid4()}").status_code == 404
    assert api.get("/api/adventures/not-a-uuid").status_code == 404
    mine = create(api).json()
    assert api.get(f"/api/adventures/{mine['id']}/entries/{uuid.uuid4()}").status_code == 404


def test_an_entry_not_yet_generated_has_empty_fields(api):
    adventure = create(api).json()
    entry = api.get(f"/api/adventures/{adventure['id']}/entries/{adventure['entries'][0]['id']}")
    assert entry.status_code == 200
    assert entry.json() == {
        "id": adventure["entries"][0]["id"],
        "position": 1,
        "status": "pending",
        "text": None,
        "sentences": [],
        "choices": [],
        "tokens": [],
        "audio": None,
        "error": None,
        "decision": None,
        "review_words": [],
        "review_words_used": None,
        "level": None,
    }


def test_a_complete_entry_has_everything(api):
    adventure, entry = complete_first_entry(api)
    body = api.get(f"/api/adventures/{adventure['id']}/entries/{entry.id}").json()
    assert body["status"] == "complete"
    assert [s["translation"] for s in body["sentences"]][:2] == [
        "It is a cold morning in a small fishing village.",
        "An old woman gives you a heavy key.",
    ]
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert {"text", "lemma", "pos", "sentence"} <= set(body["tokens"][0])  # issue 13 adds fields
    assert body["audio"]["url"].startswith("http://testserver/media/audio/")
    assert body["audio"]["duration_ms"] > 1000
    summary = api.get(f"/api/adventures/{adventure['id']}").json()
    assert summary["status"] == "active"
    assert summary["title"] == "El faro del acantilado"


# --- deciding ----------------------------------------------------------------------------


def decide(api, adventure_id, entry_id, choice_id):
    return api.post(
        f"/api/adventures/{adventure_id}/decisions",
        {"entry_id": str(entry_id), "choice_id": str(choice_id)},
        format="json",
    )


def test_a_decision_creates_the_next_entry_and_its_job(api):
    adventure, entry = complete_first_entry(api)
    choice = entry.choices.get(index=2)
    response = decide(api, adventure["id"], entry.id, choice.id)
    assert response.status_code == 201
    body = response.json()
    assert body["entry_id"] == str(entry.id)
    assert body["choice_id"] == str(choice.id)
    assert body["next_entry"]["position"] == 2
    assert body["next_entry"]["status"] == "pending"
    assert Decision.objects.get(id=body["id"]).next_entry_id == uuid.UUID(body["next_entry"]["id"])
    [job] = jobs_for(body["next_entry"]["id"])
    assert job.lock == f"adventure:{adventure['id']}"
    detail = api.get(f"/api/adventures/{adventure['id']}").json()
    assert [(e["position"], e["status"]) for e in detail["entries"]] == [
        (1, "complete"),
        (2, "pending"),
    ]


def test_a_second_decision_is_409(api):
    adventure, entry = complete_first_entry(api)
    first, second = entry.choices.all()[:2]
    assert decide(api, adventure["id"], entry.id, first.id).status_code == 201
    response = decide(api, adventure["id"], entry.id, second.id)
    assert response.status_code == 409
    assert "already" in response.json()["detail"]
    assert Entry.objects.filter(adventure_id=adventure["id"]).count() == 2


def test_deciding_on_an_entry_not_complete_is_409(api):
    adventure = create(api).json()
    response = decide(api, adventure["id"], adventure["entries"][0]["id"], uuid.uuid4())
    assert response.status_code == 409
    assert "complete" in response.json()["detail"]


def test_a_choice_of_another_entry_is_400(api):
    adventure, entry = complete_first_entry(api)
    _, other_entry = complete_first_entry(api)
    foreign = other_entry.choices.first()
    response = decide(api, adventure["id"], entry.id, foreign.id)
    assert response.status_code == 400
    assert "choice_id" in response.json()
    assert not Decision.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [{}, {"entry_id": "nope", "choice_id": "nope"}, {"entry_id": str(uuid.uuid4())}],
)
def test_malformed_decisions_are_400(api, payload):
    adventure = create(api).json()
    response = api.post(f"/api/adventures/{adventure['id']}/decisions", payload, format="json")
    assert response.status_code == 400


def test_an_entry_of_another_adventure_is_404(api):
    _, entry = complete_first_entry(api)
    other = create(api).json()
    response = decide(api, other["id"], entry.id, entry.choices.first().id)
    assert response.status_code == 404


# --- retrying ----------------------------------------------------------------------------


def test_retrying_an_entry_not_in_error_is_409(api):
    adventure = create(api).json()
    response = api.post(
        f"/api/adventures/{adventure['id']}/entries/{adventure['entries'][0]['id']}/retry"
    )
    assert response.status_code == 409
    assert "error" in response.json()["detail"]


def test_retrying_an_entry_in_error_queues_it_again(api):
    from adventures.services import LEARNER_ERROR_MESSAGE, entry_fail

    from tests.support.database import truncate_jobs

    adventure = create(api).json()
    entry_id = adventure["entries"][0]["id"]
    truncate_jobs()  # the first job ran and failed; its row is gone from the queue
    entry_fail(entry_id=uuid.UUID(entry_id), detail="deepl: HTTP 456 [permanent]")

    failed = api.get(f"/api/adventures/{adventure['id']}/entries/{entry_id}").json()
    assert failed["status"] == "error"
    assert failed["error"] == LEARNER_ERROR_MESSAGE
    assert "deepl" not in failed["error"]  # staff detail stays internal
    assert api.get(f"/api/adventures/{adventure['id']}").json()["status"] == "error"

    response = api.post(f"/api/adventures/{adventure['id']}/entries/{entry_id}/retry")
    assert response.status_code == 202
    assert response.json() == {"id": entry_id, "position": 1, "status": "pending"}
    assert len(jobs_for(entry_id)) == 1
    again = api.get(f"/api/adventures/{adventure['id']}").json()
    assert again["status"] == "awaiting_first_entry"
    assert api.get(f"/api/adventures/{adventure['id']}/entries/{entry_id}").json()["error"] is None


def test_a_second_defer_of_a_queued_entry_is_409_not_a_second_job(api):
    from adventures.services import defer_entry_job
    from langlearn.errors import ConflictError

    adventure = create(api).json()
    entry = Entry.objects.get(id=adventure["entries"][0]["id"])
    with pytest.raises(ConflictError):
        defer_entry_job(entry)
    assert len(jobs_for(entry.id)) == 1


# --- schema --------------------------------------------------------------------------------


def test_openapi_schema_and_docs_need_no_auth(anonymous):
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/auth/register",
        "/api/auth/token",
        "/api/auth/token/refresh",
        "/api/languages",
        "/api/adventures",
        "/api/adventures/{adventure_id}",
        "/api/adventures/{adventure_id}/entries/{entry_id}",
        "/api/adventures/{adventure_id}/entries/{entry_id}/retry",
        "/api/adventures/{adventure_id}/decisions",
    ):
        assert path in paths, path
    docs = anonymous.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
