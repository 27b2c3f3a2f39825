"""Reviews with FSRS (issue 13), case by case: the due list (order, limit,
whose, which language, which status), rating a word, idempotent retries, bad
input, and the schedule — every expected due time computed by the ``fsrs``
library itself on a copy of the card, never by hand."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import fsrs
import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from vocabulary import services
from vocabulary.models import Card, Review, Word

from tests.support.api import client_for
from tests.support.factories import make_adventure, make_complete_entry, make_user

pytestmark = pytest.mark.django_db


def learning(user: User, lemma: str, language: str = "es", **met: Any) -> Word:
    return services.word_save(user=user, language=language, lemma=lemma, **met).word


def set_due(word: Word, due: datetime) -> None:
    Card.objects.filter(word=word).update(due=due)


def due_list(api, **params: Any):
    return api.get("/api/reviews", {"language": "es", **params})


def rate(api, word_id: Any, rating: str = "good", review_id: Any = None):
    body = {"word_id": str(word_id), "rating": rating, "review_id": str(review_id or uuid.uuid4())}
    return api.post("/api/reviews", body, format="json")


def as_fsrs(card: Card) -> fsrs.Card:
    """The library's card for our row, field by field (not through our code)."""
    return fsrs.Card(
        card_id=card.id,
        state=fsrs.State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due.astimezone(UTC),
        last_review=card.last_review.astimezone(UTC) if card.last_review else None,
    )


def parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


# --- the due list -------------------------------------------------------------------------


def test_a_saved_word_is_due_at_once_with_where_it_was_met(api, learner):
    entry = make_complete_entry(make_adventure(learner))
    token = entry.tokens.get(lemma="pescador")
    saved = api.post("/api/words", {"token_id": token.id}, format="json").json()

    [card] = due_list(api).json()
    assert set(card) == {"word_id", "lemma", "sentence", "translation", "due"}
    assert card["word_id"] == saved["id"]
    assert card["lemma"] == "pescador"
    assert card["sentence"] == saved["sentence"] != ""
    assert card["translation"] == saved["translation"] != ""
    assert parse(card["due"]) <= timezone.now()


def test_due_cards_come_due_soonest_first_up_to_the_limit(api, learner):
    now = timezone.now()
    words = {lemma: learning(learner, lemma) for lemma in ("uno", "dos", "tres", "cuatro")}
    set_due(words["uno"], now - timedelta(hours=1))
    set_due(words["dos"], now - timedelta(days=3))
    set_due(words["tres"], now - timedelta(minutes=5))
    set_due(words["cuatro"], now + timedelta(hours=1))  # not due yet

    assert [c["lemma"] for c in due_list(api).json()] == ["dos", "uno", "tres"]
    assert [c["lemma"] for c in due_list(api, limit=2).json()] == ["dos", "uno"]
    assert [c["lemma"] for c in due_list(api, limit=1).json()] == ["dos"]


def test_the_limit_is_20_unless_asked_and_at_most_100(api, learner):
    for n in range(105):
        learning(learner, f"palabra{n}")
    assert len(due_list(api).json()) == 20
    assert len(due_list(api, limit=100).json()) == 100


def test_only_the_learners_own_learning_words_of_that_language_are_due(api, learner):
    learning(learner, "faro")
    learning(learner, "phare", language="fr")
    learning(make_user("ben"), "barco")
    known = learning(learner, "mar")
    services.word_set_status(user=learner, word_id=known.id, status="known")
    ignored = learning(learner, "Pepe")
    services.word_set_status(user=learner, word_id=ignored.id, status="ignored")

    assert [c["lemma"] for c in due_list(api).json()] == ["faro"]
    assert [c["lemma"] for c in due_list(api, language="fr").json()] == ["phare"]
    assert due_list(api, language="de").json() == []


def test_a_known_word_set_back_to_learning_resumes_its_card(api, learner):
    word = learning(learner, "faro")
    later = timezone.now() + timedelta(days=4)
    set_due(word, later)
    api.patch(f"/api/words/{word.id}", {"status": "known"}, format="json")
    api.patch(f"/api/words/{word.id}", {"status": "learning"}, format="json")
    assert Card.objects.get(word=word).due == later  # kept, not reset
    assert due_list(api).json() == []


def test_a_word_marked_known_by_page_then_learnt_gets_a_card_due_now(api, learner):
    entry = make_complete_entry(make_adventure(learner))
    api.post(f"/api/adventures/{entry.adventure_id}/entries/{entry.id}/known")
    word = Word.objects.get(user=learner, lemma="pescador")
    assert not Card.objects.filter(word=word).exists()
    assert due_list(api).json() == []
    api.patch(f"/api/words/{word.id}", {"status": "learning"}, format="json")
    assert [c["lemma"] for c in due_list(api).json()] == ["pescador"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "language"),
        ({"language": ""}, "language"),
        ({"language": "xx"}, "language"),
        ({"language": "en"}, "language"),  # a native language, not one we teach
        ({"language": "es", "limit": "0"}, "limit"),
        ({"language": "es", "limit": "101"}, "limit"),
        ({"language": "es", "limit": "-3"}, "limit"),
        ({"language": "es", "limit": "ten"}, "limit"),
        ({"language": "es", "limit": ""}, "limit"),
    ],
)
def test_a_bad_language_or_limit_is_a_400_naming_it(api, params, field):
    response = api.get("/api/reviews", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json()


def test_reviews_need_a_login(anonymous):
    assert anonymous.get("/api/reviews", {"language": "es"}).status_code == 401
    assert rate(anonymous, uuid.uuid4()).status_code == 401


# --- rating a word ------------------------------------------------------------------------


def test_rating_a_word_answers_201_with_the_next_due_time_and_logs_the_review(api, learner):
    word = learning(learner, "faro")
    review_id = uuid.uuid4()
    response = rate(api, word.id, "good", review_id)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"word_id", "review_id", "rating", "reviewed_at", "due", "state"}
    assert body["word_id"] == str(word.id)
    assert body["review_id"] == str(review_id)
    assert body["rating"] == "good"
    assert body["state"] == "learning"
    assert parse(body["due"]) > parse(body["reviewed_at"])

    [log] = Review.objects.all()
    assert (log.user, log.word, log.review_id, log.rating) == (learner, word, review_id, 3)
    assert log.card_before["state"] == 1
    assert log.card_before["last_review"] is None
    assert fsrs.Card.from_dict(log.card_after).due == parse(body["due"]) == log.due
    assert Card.objects.get(word=word).due == parse(body["due"])
    assert due_list(api).json() == []  # no longer due


def test_a_review_sent_twice_counts_once(api, learner):
    word = learning(learner, "faro")
    review_id = uuid.uuid4()
    first = rate(api, word.id, "good", review_id)
    card_after_first = Card.objects.get(word=word)
    retry = rate(api, word.id, "good", review_id)

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert Review.objects.count() == 1
    card = Card.objects.get(word=word)
    assert (card.due, card.step, card.state, card.last_review) == (
        card_after_first.due,
        card_after_first.step,
        card_after_first.state,
        card_after_first.last_review,
    )
    # A new review_id is a new review: applied.
    assert rate(api, word.id, "good").status_code == 201
    assert Review.objects.count() == 2


def test_a_review_id_reused_for_another_rating_or_word_is_a_409(api, learner):
    word, other = learning(learner, "faro"), learning(learner, "mar")
    review_id = uuid.uuid4()
    rate(api, word.id, "good", review_id)
    for response in (
        rate(api, word.id, "again", review_id),
        rate(api, other.id, "good", review_id),
    ):
        assert response.status_code == 409
        assert response.json()["code"] == "review_id_reused"
    assert Review.objects.count() == 1


def test_two_learners_may_send_the_same_review_id(api, learner):
    ben = make_user("ben")
    review_id = uuid.uuid4()
    assert rate(api, learning(learner, "faro").id, "good", review_id).status_code == 201
    assert rate(client_for(ben), learning(ben, "faro").id, "good", review_id).status_code == 201
    assert Review.objects.count() == 2


def test_another_learners_word_or_no_word_is_a_404(api):
    bens = learning(make_user("ben"), "faro")
    for word_id in (bens.id, uuid.uuid4()):
        response = rate(api, word_id)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert Review.objects.count() == 0
    assert Card.objects.get(word=bens).last_review is None


@pytest.mark.parametrize("status", ["known", "ignored"])
def test_a_word_not_being_learnt_is_a_409(api, learner, status):
    word = learning(learner, "faro")
    services.word_set_status(user=learner, word_id=word.id, status=status)
    response = rate(api, word.id)
    assert response.status_code == 409
    assert response.json()["code"] == "word_not_learning"
    assert Review.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"rating": "perfect"}, "rating"),
        ({"rating": 3}, "rating"),
        ({"rating": 5}, "rating"),
        ({"rating": ""}, "rating"),
        ({"rating": None}, "rating"),
        ({"review_id": "not-a-uuid"}, "review_id"),
        ({"review_id": 12}, "review_id"),
        ({"word_id": 12}, "word_id"),
        ({"word_id": None}, "word_id"),
    ],
)
def test_bad_review_input_is_a_400_naming_the_field(api, learner, change, field):
    word = learning(learner, "faro")
    body = {"word_id": str(word.id), "rating": "good", "review_id": str(uuid.uuid4())}
    response = api.post("/api/reviews", {**body, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Review.objects.count() == 0


@pytest.mark.parametrize("missing", ["word_id", "rating", "review_id"])
def test_a_missing_field_is_a_400(api, learner, missing):
    body = {"word_id": str(learning(learner, "faro").id), "rating": "good"}
    body["review_id"] = str(uuid.uuid4())
    del body[missing]
    response = api.post("/api/reviews", body, format="json")
    assert response.status_code == 400
    assert missing in response.json()


# --- the schedule is the library's ------------------------------------------------------


def review_as_fsrs_would(api, word: Word, rating: str, seed: int) -> tuple[datetime, datetime]:
    """Rate ``word`` through the API and check the due time against
    ``fsrs.Scheduler`` run on a copy of the card at the logged review time
    (with the same random state for the library's fuzz). (reviewed_at, due)."""
    before = as_fsrs(Card.objects.get(word=word))
    random.seed(seed)
    body = rate(api, word.id, rating).json()
    reviewed_at = Review.objects.get(review_id=body["review_id"]).reviewed_at.astimezone(UTC)
    random.seed(seed)
    expected, _log = fsrs.Scheduler().review_card(
        before, fsrs.Rating[rating.capitalize()], review_datetime=reviewed_at
    )
    assert parse(body["due"]) == expected.due
    assert body["state"] == expected.state.name.lower()
    card = Card.objects.get(word=word)
    assert (card.stability, card.difficulty, card.step) == (
        expected.stability,
        expected.difficulty,
        expected.step,
    )
    return reviewed_at, parse(body["due"])


def wait_until_due(word: Word) -> None:
    """Time passes: the card's last review and due time move back until it is due now."""
    card = Card.objects.get(word=word)
    gap = card.due - timezone.now()
    Card.objects.filter(pk=card.pk).update(due=F("due") - gap, last_review=F("last_review") - gap)


def test_intervals_grow_with_good_and_shrink_after_again(api, learner):
    word = learning(learner, "faro")
    intervals = []
    for seed in range(6):
        reviewed_at, due = review_as_fsrs_would(api, word, "good", seed)
        intervals.append(due - reviewed_at)
        wait_until_due(word)
    assert intervals == sorted(intervals)
    assert len(set(intervals)) == len(intervals)
    assert intervals[-1] > timedelta(days=10)  # well into the Review state
    assert Card.objects.get(word=word).state == Card.State.REVIEW

    reviewed_at, due = review_as_fsrs_would(api, word, "again", 99)
    assert due - reviewed_at < intervals[-1]
    assert Card.objects.get(word=word).state == Card.State.RELEARNING
    assert Review.objects.filter(word=word).count() == 7


@pytest.mark.parametrize("rating", ["again", "hard", "good", "easy"])
def test_each_rating_schedules_as_the_library_does(api, learner, rating):
    word = learning(learner, "faro")
    for seed in range(3):
        review_as_fsrs_would(api, word, "good", seed)
        wait_until_due(word)
    review_as_fsrs_would(api, word, rating, 7)


# --- the words list, due now ---------------------------------------------------------------


def test_words_due_true_lists_the_words_due_now_and_false_the_others(api, learner):
    due = learning(learner, "faro")
    later = learning(learner, "mar")
    set_due(later, timezone.now() + timedelta(days=2))
    known = learning(learner, "sol")
    services.word_set_status(user=learner, word_id=known.id, status="known")
    learning(make_user("ben"), "barco")

    def lemmas(**params: Any) -> list[str]:
        response = api.get("/api/words", params)
        assert response.status_code == 200
        return sorted(w["lemma"] for w in response.json()["results"])

    assert lemmas(due="true") == ["faro"]
    assert lemmas(due="false") == ["mar", "sol"]
    assert lemmas(due="true", language="fr") == []
    assert lemmas() == ["faro", "mar", "sol"]
    rate(api, due.id, "good")
    assert lemmas(due="true") == []


@pytest.mark.parametrize("value", ["maybe", ""])
def test_a_bad_due_filter_is_a_400(api, value):
    response = api.get("/api/words", {"due": value})
    assert response.status_code == 400
    assert "due" in response.json()


def test_deleting_a_learner_deletes_their_cards_and_reviews(api, learner):
    rate(api, learning(learner, "faro").id)
    learner.delete()
    assert (Card.objects.count(), Review.objects.count()) == (0, 0)


# --- concurrent sends ---------------------------------------------------------------------


def send_at_once(user: User, bodies: list[dict[str, str]]) -> list[int]:
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def send(body: dict[str, str]) -> None:
        client = client_for(user)
        barrier.wait()
        try:
            statuses.append(client.post("/api/reviews", body, format="json").status_code)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(statuses)


@pytest.mark.django_db(transaction=True)
def test_one_review_sent_six_times_at_once_is_applied_once():
    user = make_user()
    word = learning(user, "faro")
    body = {"word_id": str(word.id), "rating": "good", "review_id": str(uuid.uuid4())}
    assert send_at_once(user, [body] * 6) == [200] * 5 + [201]
    [review] = Review.objects.all()
    card = Card.objects.get(word=word)
    assert card.last_review == review.reviewed_at
    assert card.step == fsrs.Card.from_dict(review.card_after).step == 1  # one step on, not six


@pytest.mark.django_db(transaction=True)
def test_one_review_id_sent_for_six_words_at_once_is_applied_to_one():
    user = make_user()
    words = [learning(user, f"palabra{n}") for n in range(6)]
    review_id = str(uuid.uuid4())
    bodies = [{"word_id": str(w.id), "rating": "good", "review_id": review_id} for w in words]
    assert send_at_once(user, bodies) == [201] + [409] * 5
    [review] = Review.objects.all()
    reviewed = Card.objects.filter(last_review__isnull=False)
    assert [card.word_id for card in reviewed] == [review.word_id]  # the others rolled back


@pytest.mark.django_db(transaction=True)
def test_a_learning_word_without_a_card_rated_six_times_at_once_gets_one_card():
    user = make_user()
    word = Word.objects.create(user=user, language="es", lemma="faro")  # no card, as old rows
    bodies = [
        {"word_id": str(word.id), "rating": "good", "review_id": str(uuid.uuid4())}
        for _ in range(6)
    ]
    assert send_at_once(user, bodies) == [201] * 6
    assert Card.objects.filter(word=word).count() == 1
    assert Review.objects.filter(word=word).count() == 6
