"""Every token of the entry payload carries the requesting learner's status for
its lemma and their word's id, in a bounded number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from adventures.models import Entry, Token
from vocabulary.models import Word

from tests.support.api import client_for
from tests.support.factories import make_adventure, make_complete_entry, make_user

pytestmark = pytest.mark.django_db

TOKENS = (
    ("Los", "el", "DET", 0),
    ("pescadores", "pescador", "NOUN", 0),
    ("ríen", "reír", "VERB", 0),
    ("en", "en", "ADP", 0),
    ("Vigo", "Vigo", "PROPN", 0),
    (".", ".", "PUNCT", 0),
)


def url(entry: Entry) -> str:
    return f"/api/adventures/{entry.adventure_id}/entries/{entry.id}"


def tokens_of(api, entry: Entry) -> dict[str, dict]:
    return {token["text"]: token for token in api.get(url(entry)).json()["tokens"]}


def test_tokens_carry_the_learners_status_and_word_id(api, learner):
    entry = make_complete_entry(make_adventure(learner), tokens=TOKENS)
    learning = Word.objects.create(user=learner, language="es", lemma="Pescador")  # any case
    known = Word.objects.create(user=learner, language="es", lemma="reír", status="known")
    ignored = Word.objects.create(user=learner, language="es", lemma="vigo", status="ignored")
    Word.objects.create(user=learner, language="fr", lemma="en", status="known")  # not Spanish
    Word.objects.create(user=make_user("ben"), language="es", lemma="el", status="known")

    tokens = tokens_of(api, entry)
    assert {text: (t["status"], t["word_id"]) for text, t in tokens.items()} == {
        "Los": ("new", None),
        "pescadores": ("learning", str(learning.id)),
        "ríen": ("known", str(known.id)),
        "en": ("new", None),
        "Vigo": ("ignored", str(ignored.id)),
        ".": ("new", None),
    }
    # Fields are only added: the old ones are all there, with the token's id.
    assert set(tokens["Los"]) == {
        *("id", "text", "lemma", "pos", "sentence", "band", "status", "word_id", "review")
    }
    assert tokens["Los"]["id"] == Token.objects.get(entry=entry, text="Los").id


def test_a_word_saved_from_the_payload_shows_in_the_next_payload(api, learner):
    entry = make_complete_entry(make_adventure(learner), tokens=TOKENS)
    token = tokens_of(api, entry)["pescadores"]
    word = api.post("/api/words", {"token_id": token["id"]}, format="json").json()
    assert tokens_of(api, entry)["pescadores"]["word_id"] == word["id"]
    api.patch(f"/api/words/{word['id']}", {"status": "known"}, format="json")
    assert tokens_of(api, entry)["pescadores"]["status"] == "known"
    api.delete(f"/api/words/{word['id']}")
    assert tokens_of(api, entry)["pescadores"]["status"] == "new"


def _big_entry(learner: User, *, tokens: int, words: int) -> Entry:
    entry = make_complete_entry(make_adventure(learner), tokens=())
    Token.objects.bulk_create(
        Token(entry=entry, index=n, sentence=n // 10, text=f"w{n}", lemma=f"lema{n}", pos="NOUN")
        for n in range(tokens)
    )
    # Every other token's lemma saved (in upper case), among many other words.
    Word.objects.bulk_create(
        Word(user=learner, language="es", lemma=f"LEMA{n}", status="known")
        for n in range(0, 2 * words, 2)
    )
    return entry


def _queries(api, entry: Entry) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url(entry))
    assert response.status_code == 200
    return len(queries), response.json()


def test_300_tokens_and_5000_words_take_as_many_queries_as_a_small_entry(
    learner, django_assert_max_num_queries
):
    api = client_for(learner)
    small, _ = _queries(api, make_complete_entry(make_adventure(learner), tokens=TOKENS))
    entry = _big_entry(learner, tokens=300, words=5000)
    with django_assert_max_num_queries(small):
        big, body = _queries(api, entry)
    assert big <= 10
    statuses = [token["status"] for token in body["tokens"]]
    assert len(statuses) == 300
    assert statuses[:4] == ["known", "new", "known", "new"]
    assert statuses.count("known") == 150
