"""``GET /api/progress``: words by status, reviews, days in a row, passages read
and minutes of audio, in one language."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from adventures.models import Decision
from vocabulary import services
from vocabulary.models import Card, Review, Word

from tests.support.factories import (
    make_adventure,
    make_complete_entry,
    make_decision,
    make_user,
)

pytestmark = pytest.mark.django_db

URL = "/api/progress"


def progress(api, **query: str) -> dict:
    response = api.get(URL, {"language": "es", **query})
    assert response.status_code == 200, response.content
    return response.json()


def review(user, lemma: str, *, days_ago: int = 0, rating: str = "good") -> Review:
    word = Word.objects.get(user=user, lemma=lemma)
    reviewed = services.review_submit(
        user=user, word_id=word.id, rating=rating, review_id=uuid.uuid4()
    ).review
    if days_ago:  # as if it had happened then: the review, and the card it scheduled
        back = timedelta(days=days_ago)
        Review.objects.filter(id=reviewed.id).update(reviewed_at=reviewed.reviewed_at - back)
        Card.objects.filter(word=word).update(due=reviewed.due - back)
    return reviewed


def save(api, lemma: str, language: str = "es") -> dict:
    return api.post("/api/words", {"language": language, "lemma": lemma}, format="json").json()


def test_a_new_learner_has_no_progress(api):
    assert progress(api) == {
        "language": "es",
        "words": {"learning": 0, "known": 0, "ignored": 0},
        "reviews_today": 0,
        "due_now": 0,
        "streak_days": 0,
        "active_today": False,
        "passages_read": 0,
        "audio_minutes": 0.0,
        "coverage": {"passages": 0, "known": None, "learning": None, "new_words": None},
    }


def test_words_by_status_reviews_today_and_due_now(api, learner):
    for lemma in ("faro", "llave", "ola", "mar"):
        save(api, lemma)
    api.patch(f"/api/words/{save(api, 'mar')['id']}", {"status": "known"}, format="json")
    api.patch(f"/api/words/{save(api, 'ola')['id']}", {"status": "ignored"}, format="json")
    save(api, "phare", language="fr")  # another language
    other = make_user("ben")
    Word.objects.create(user=other, language="es", lemma="barco")  # another learner
    review(learner, "faro")  # good: due again in minutes, no longer now
    review(learner, "llave", days_ago=3)  # an old review, not today's

    body = progress(api)

    assert body["words"] == {"learning": 2, "known": 1, "ignored": 1}
    assert body["reviews_today"] == 1
    assert body["due_now"] == 1  # llave: its card says now; faro is scheduled later
    assert body["active_today"] is True
    assert progress(api, language="fr")["words"] == {"learning": 1, "known": 0, "ignored": 0}


def test_days_in_a_row_count_reviews_and_passages_read(api, learner):
    for lemma in ("faro", "llave"):
        save(api, lemma)
    review(learner, "faro", days_ago=1)
    review(learner, "llave", days_ago=3)
    # A passage read two days ago: the decision at its end.
    entry = make_complete_entry(make_adventure(learner))
    decision = make_decision(entry)
    Decision.objects.filter(id=decision.id).update(created_at=timezone.now() - timedelta(days=2))
    review(learner, "faro", days_ago=5)  # after a gap: not part of the streak

    body = progress(api)
    # Today has nothing yet: the streak still runs, from yesterday back to day 3.
    assert body["streak_days"] == 3
    assert body["active_today"] is False

    review(learner, "llave")
    assert progress(api)["streak_days"] == 4


def test_a_streak_broken_yesterday_is_zero(api, learner):
    save(api, "faro")
    review(learner, "faro", days_ago=2)
    assert progress(api)["streak_days"] == 0


def test_passages_read_and_their_minutes_of_audio(api, learner):
    adventure = make_adventure(learner)
    decided = make_complete_entry(adventure, position=1, audio_seconds=Decimal("90"))
    make_decision(decided, next_entry=make_complete_entry(adventure, position=2))
    marked = make_complete_entry(make_adventure(learner), position=1, audio_seconds=Decimal("30.5"))
    assert (
        api.post(f"/api/adventures/{marked.adventure_id}/entries/{marked.id}/known").status_code
        == 200
    )
    saved_from = make_complete_entry(
        make_adventure(learner), position=1, audio_seconds=Decimal("15")
    )
    token = saved_from.tokens.get(lemma="reír")
    assert api.post("/api/words", {"token_id": token.id}, format="json").status_code in {200, 201}
    make_complete_entry(make_adventure(learner), audio_seconds=Decimal("600"))  # not acted on
    french = make_complete_entry(
        make_adventure(learner, target_language="fr"), audio_seconds=Decimal("60")
    )
    make_decision(french)  # read, but in French

    body = progress(api)

    assert body["passages_read"] == 3
    assert body["audio_minutes"] == round((90 + 30.5 + 15) / 60, 1)
    assert body["streak_days"] == 1
    assert body["active_today"] is True
    assert progress(api, language="fr")["passages_read"] == 1


def test_a_time_zone_can_be_given(api, learner):
    save(api, "faro")
    review(learner, "faro")
    for zone in ("Europe/Madrid", "Pacific/Kiritimati", "America/Adak", "UTC"):
        body = progress(api, tz=zone)
        # A review a moment ago is today wherever you are, unless the zone's
        # day began in the last second: none of these does within a test run.
        assert body["reviews_today"] in {0, 1}
        assert body["streak_days"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"language": "xx"}, "language"),
        ({"language": "en"}, "language"),  # not taught
        ({"language": ""}, "language"),
        ({"language": "es", "tz": "Mars/Olympus"}, "tz"),
        ({"language": "es", "tz": "../../etc/passwd"}, "tz"),
        ({"language": "es", "tz": ""}, "tz"),
    ],
)
def test_bad_input_is_a_400(api, query, field):
    response = api.get(URL, query)
    assert response.status_code == 400
    assert field in response.json()


def test_the_language_is_required(api):
    response = api.get(URL)
    assert response.status_code == 400
    assert "language" in response.json()


def test_progress_needs_a_token(anonymous):
    assert anonymous.get(URL, {"language": "es"}).status_code == 401
