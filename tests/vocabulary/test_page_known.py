"""Page to known: every word of a passage the learner has not saved becomes
``known`` in one request; saved words keep their status; a second call changes
nothing."""

from __future__ import annotations

import uuid

import pytest

from accounts.models import User
from adventures.models import Entry, Token
from vocabulary.models import Word

from tests.support.factories import make_adventure, make_complete_entry, make_entry, make_user

pytestmark = pytest.mark.django_db

TOKENS = (
    ("El", "el", "DET", 0),
    ("faro", "faro", "NOUN", 0),
    ("de", "de", "ADP", 0),
    ("Vigo", "Vigo", "PROPN", 0),
    ("tiene", "tener", "VERB", 0),
    ("1984", "1984", "NUM", 0),
    ("escalones", "escalón", "NOUN", 0),
    (",", ",", "PUNCT", 0),
    ("el", "el", "DET", 0),  # the same lemma twice
    ("¡", "¡", "", 0),  # punctuation with no part of speech
    ("%", "%", "SYM", 0),
    ("ok", "ok", "X", 0),
    ("sube", "subir", "", 0),  # a word with no part of speech
    (".", ".", "PUNCT", 1),
)


def known(api, entry: Entry):
    return api.post(f"/api/adventures/{entry.adventure_id}/entries/{entry.id}/known")


@pytest.fixture
def entry(learner: User) -> Entry:
    return make_complete_entry(make_adventure(learner), tokens=TOKENS)


def statuses(user: User) -> dict[str, str]:
    return dict(Word.objects.filter(user=user, language="es").values_list("lemma", "status"))


def test_every_new_word_of_the_passage_becomes_known(api, learner, entry):
    Word.objects.create(user=learner, language="es", lemma="Faro")  # learning, other case
    Word.objects.create(user=learner, language="es", lemma="vigo", status="ignored")
    Word.objects.create(user=learner, language="fr", lemma="de", status="learning")  # French

    response = known(api, entry)
    assert response.status_code == 200
    assert response.json() == {"words": 7, "marked_known": 5, "already_saved": 2}
    assert statuses(learner) == {
        "Faro": "learning",  # saved words keep their status
        "vigo": "ignored",
        "de": "known",  # the Spanish "de" (the French one is another word)
        "el": "known",
        "tener": "known",
        "escalón": "known",
        "subir": "known",
    }
    assert Word.objects.get(user=learner, language="fr").status == "learning"
    assert Word.objects.get(user=learner, lemma="tener").entry_id == entry.id


def test_the_payload_shows_the_words_known_afterwards(api, entry):
    known(api, entry)
    body = api.get(f"/api/adventures/{entry.adventure_id}/entries/{entry.id}").json()
    shown = {token["text"]: token["status"] for token in body["tokens"]}
    assert shown["El"] == shown["el"] == shown["tiene"] == shown["sube"] == "known"
    assert shown[","] == shown["1984"] == shown["%"] == shown["ok"] == "new"


def test_a_second_call_changes_nothing(api, learner, entry):
    known(api, entry)
    before = statuses(learner)
    again = known(api, entry)
    assert again.status_code == 200
    assert again.json() == {"words": 7, "marked_known": 0, "already_saved": 7}
    assert statuses(learner) == before


def test_a_long_passage_is_marked_in_a_bounded_number_of_queries(
    api, learner, django_assert_max_num_queries
):
    entry = make_complete_entry(make_adventure(learner), tokens=())
    Token.objects.bulk_create(
        Token(entry=entry, index=n, sentence=0, text=f"w{n}", lemma=f"lema{n}", pos="NOUN")
        for n in range(300)
    )
    with django_assert_max_num_queries(10):
        response = known(api, entry)
    assert response.json()["marked_known"] == 300
    assert Word.objects.filter(user=learner, status="known").count() == 300


def test_another_learners_entry_is_404(api, learner):
    theirs = make_complete_entry(make_adventure(make_user("ben")), tokens=TOKENS)
    response = known(api, theirs)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Word.objects.exists()


def test_unknown_ids_are_404(api, entry):
    other_adventure = f"/api/adventures/{uuid.uuid4()}/entries/{entry.id}/known"
    assert api.post(other_adventure).status_code == 404
    assert (
        api.post(f"/api/adventures/{entry.adventure_id}/entries/{uuid.uuid4()}/known").status_code
        == 404
    )


def test_an_entry_not_complete_is_409(api, learner):
    entry = make_entry(make_adventure(learner), status=Entry.Status.GENERATING)
    response = known(api, entry)
    assert response.status_code == 409
    assert response.json()["code"] == "entry_not_complete"


def test_it_needs_a_token(anonymous, entry):
    assert known(anonymous, entry).status_code == 401
