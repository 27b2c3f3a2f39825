"""The words API (issue 13), case by case: saving by lemma and by token,
idempotent saves, listing with filters and pages, status changes, deletion,
bad input and other learners' ids."""

from __future__ import annotations

import uuid

import pytest

from accounts.models import User
from adventures.models import Entry, Token
from vocabulary.models import Word

from tests.support.api import client_for
from tests.support.factories import make_adventure, make_complete_entry, make_user

pytestmark = pytest.mark.django_db


def save(api, **data):
    return api.post("/api/words", data, format="json")


def a_token(entry: Entry, lemma: str) -> Token:
    return entry.tokens.get(lemma=lemma)


@pytest.fixture
def entry(learner: User) -> Entry:
    return make_complete_entry(make_adventure(learner))


# --- saving by lemma ----------------------------------------------------------------------


def test_saving_a_lemma_answers_201_with_the_word_learning(api):
    response = save(api, language="es", lemma="faro")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "language",
        "lemma",
        "status",
        "sentence",
        "translation",
        "entry_id",
        "created_at",
        "updated_at",
    }
    assert body["lemma"] == "faro"
    assert body["language"] == "es"
    assert body["status"] == "learning"
    assert body["entry_id"] is None


def test_saving_twice_answers_200_with_the_same_word_in_any_case(api, learner):
    first = save(api, language="es", lemma="faro").json()
    again = save(api, language="es", lemma="  Faro ")
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["lemma"] == "faro"
    assert Word.objects.filter(user=learner).count() == 1


def test_saving_a_word_already_known_leaves_it_known(api):
    word = save(api, language="es", lemma="faro").json()
    api.patch(f"/api/words/{word['id']}", {"status": "known"}, format="json")
    again = save(api, language="es", lemma="faro")
    assert again.status_code == 200
    assert again.json()["status"] == "known"


def test_the_same_lemma_in_two_languages_is_two_words(api):
    assert save(api, language="es", lemma="pan").status_code == 201
    assert save(api, language="fr", lemma="pan").status_code == 201


def test_two_learners_each_have_their_own_word(api):
    other = client_for(make_user("ben"))
    mine = save(api, language="es", lemma="faro").json()
    theirs = save(other, language="es", lemma="faro")
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine["id"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"language": "xx", "lemma": "faro"}, "language"),
        ({"language": "en", "lemma": "lighthouse"}, "language"),  # not one we teach
        ({"language": "es", "lemma": "x" * 10_000}, "lemma"),
        ({"language": "es", "lemma": ""}, "lemma"),
        ({"language": "es", "lemma": "   "}, "lemma"),
        ({"language": "es", "lemma": "¿?"}, "lemma"),
        ({"language": "es", "lemma": "1984"}, "lemma"),
        ({"language": "es", "lemma": "fa\x00ro"}, "lemma"),
        ({"language": "es", "lemma": 7}, "lemma"),
        ({"language": "es"}, "lemma"),
        ({"lemma": "faro"}, "language"),
        ({"token_id": "1"}, "token_id"),
        ({"token_id": True}, "token_id"),
        ({"token_id": 0}, "token_id"),
        ({"token_id": 2**70}, "token_id"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, learner, data, field):
    response = save(api, **data)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Word.objects.filter(user=learner).exists()


@pytest.mark.parametrize("data", [{}, {"token_id": 1, "language": "es", "lemma": "faro"}])
def test_either_a_token_or_a_lemma(api, data):
    response = save(api, **data)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Give either token_id, or language and lemma."]}


def test_a_body_that_is_not_an_object_is_a_400(api):
    response = api.post("/api/words", [1, 2], format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


# --- saving by token ----------------------------------------------------------------------


def test_saving_a_token_keeps_its_lemma_sentence_translation_and_entry(api, entry):
    token = a_token(entry, "pescador")
    response = save(api, token_id=token.id)
    assert response.status_code == 201
    body = response.json()
    assert body["lemma"] == "pescador"
    assert body["language"] == "es"
    assert body["sentence"] == "Los pescadores se ríen."
    assert body["translation"] == "The fishermen laugh."
    assert body["entry_id"] == str(entry.id)
    assert save(api, token_id=token.id).status_code == 200


def test_a_token_of_a_word_saved_by_lemma_fills_in_where_it_was_met(api, entry):
    first = save(api, language="es", lemma="Pescador").json()
    again = save(api, token_id=a_token(entry, "pescador").id)
    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["sentence"] == "Los pescadores se ríen."


def test_a_token_of_another_learners_entry_is_404(api, learner):
    theirs = make_complete_entry(make_adventure(make_user("ben")))
    response = save(api, token_id=a_token(theirs, "pescador").id)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Word.objects.filter(user=learner).exists()


def test_an_unknown_token_is_404(api):
    assert save(api, token_id=2**62).status_code == 404


def test_a_punctuation_token_is_not_a_word(api, learner):
    entry = make_complete_entry(
        make_adventure(learner), tokens=[(".", ".", "PUNCT", 0), ("¡", "¡", "", 0)]
    )
    for token in entry.tokens.all():
        response = save(api, token_id=token.id)
        assert response.status_code == 400
        assert "token_id" in response.json()


def test_a_word_saved_from_an_entry_outlives_the_entry(api, entry):
    word = save(api, token_id=a_token(entry, "pescador").id).json()
    entry.adventure.delete()
    kept = api.get("/api/words").json()["results"]
    assert [w["id"] for w in kept] == [word["id"]]
    assert kept[0]["entry_id"] is None
    assert kept[0]["sentence"] == "Los pescadores se ríen."


# --- listing ------------------------------------------------------------------------------


def test_the_list_is_own_words_newest_first_filtered_and_paginated(api):
    for lemma in ("uno", "dos", "tres"):
        save(api, language="es", lemma=lemma)
    save(api, language="fr", lemma="pain")
    save(client_for(make_user("ben")), language="es", lemma="faro")
    tres = Word.objects.get(lemma="tres")
    api.patch(f"/api/words/{tres.id}", {"status": "known"}, format="json")

    everything = api.get("/api/words").json()
    assert everything["count"] == 4
    assert [w["lemma"] for w in everything["results"]] == ["pain", "tres", "dos", "uno"]

    spanish = api.get("/api/words?language=es").json()
    assert [w["lemma"] for w in spanish["results"]] == ["tres", "dos", "uno"]
    learning = api.get("/api/words?language=es&status=learning").json()
    assert [w["lemma"] for w in learning["results"]] == ["dos", "uno"]

    page = api.get("/api/words?page_size=2&page=2").json()
    assert page["count"] == 4
    assert [w["lemma"] for w in page["results"]] == ["dos", "uno"]
    assert page["next"] is None
    assert page["previous"] is not None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("language=xx", "language"),
        ("language=en", "language"),
        ("status=new", "status"),
        ("status=", "status"),
        ("language=", "language"),
        ("status=whatever", "status"),
        ("page_size=0", "page_size"),
        ("page_size=abc", "page_size"),
    ],
)
def test_bad_filters_are_a_400(api, query, field):
    response = api.get(f"/api/words?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_a_page_past_the_end_is_404(api):
    response = api.get("/api/words?page=9")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_words_need_a_token(anonymous):
    assert anonymous.get("/api/words").status_code == 401
    assert anonymous.post("/api/words", {}, format="json").status_code == 401


# --- changing and deleting ------------------------------------------------------------------


def test_get_reads_one_word_as_the_list_shows_it(api):
    word = save(api, language="es", lemma="faro").json()
    response = api.get(f"/api/words/{word['id']}")
    assert response.status_code == 200
    assert response.json() == word
    assert api.get("/api/words").json()["results"] == [word]
    missing = api.get(f"/api/words/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_patch_changes_the_status(api):
    word = save(api, language="es", lemma="faro").json()
    for status in ("known", "ignored", "learning"):
        response = api.patch(f"/api/words/{word['id']}", {"status": status}, format="json")
        assert response.status_code == 200
        assert response.json()["status"] == status
    assert Word.objects.get(id=word["id"]).status == "learning"


@pytest.mark.parametrize(
    "body", [{"status": "new"}, {"status": "mastered"}, {"status": ""}, {"status": 1}]
)
def test_patch_with_a_bad_status_is_a_400(api, body):
    word = save(api, language="es", lemma="faro").json()
    response = api.patch(f"/api/words/{word['id']}", body, format="json")
    assert response.status_code == 400
    assert "status" in response.json()


def test_patch_without_a_status_changes_nothing(api):
    word = save(api, language="es", lemma="faro").json()
    response = api.patch(f"/api/words/{word['id']}", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "learning"
    assert api.patch(f"/api/words/{uuid.uuid4()}", {}, format="json").status_code == 404


def test_delete_forgets_the_word(api):
    word = save(api, language="es", lemma="faro").json()
    response = api.delete(f"/api/words/{word['id']}")
    assert response.status_code == 204
    assert not Word.objects.filter(id=word["id"]).exists()
    assert api.delete(f"/api/words/{word['id']}").status_code == 404
    assert save(api, language="es", lemma="faro").status_code == 201


def test_another_learners_word_is_404_and_untouched(api):
    theirs = save(client_for(make_user("ben")), language="es", lemma="faro").json()
    url = f"/api/words/{theirs['id']}"
    patched = api.patch(url, {"status": "ignored"}, format="json")
    assert patched.status_code == 404
    assert patched.json()["code"] == "not_found"
    assert api.delete(url).status_code == 404
    assert api.get(url).status_code == 404
    assert Word.objects.get(id=theirs["id"]).status == "learning"


def test_unknown_and_malformed_word_ids_are_404(api):
    assert (
        api.patch(f"/api/words/{uuid.uuid4()}", {"status": "known"}, format="json").status_code
        == 404
    )
    assert api.delete("/api/words/not-a-uuid").status_code == 404


# --- deleting a learner ---------------------------------------------------------------------


def test_deleting_a_learner_deletes_their_words_only(api, learner, entry):
    save(api, token_id=a_token(entry, "pescador").id)
    save(api, language="es", lemma="faro")
    ben = make_user("ben")
    save(client_for(ben), language="es", lemma="faro")
    learner.delete()
    assert list(Word.objects.values_list("user__username", "lemma")) == [("ben", "faro")]
