"""Words in the admin: staff can look and search, not add or edit; deleting a
learner there removes their words with them. Reviews: read-only too."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from vocabulary import services
from vocabulary.models import Card, Review, Word

from tests.support.factories import make_adventure, make_complete_entry, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _static_files(settings) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def console() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("staff", password="staff-passphrase-1"))
    return client


def make_words(user: User, count: int) -> list[Word]:
    entry = make_complete_entry(make_adventure(user))
    return [
        Word.objects.create(
            user=user,
            language="es",
            lemma=f"palabra{n}",
            sentence="Los pescadores se ríen.",
            entry=entry,
        )
        for n in range(count)
    ]


def test_the_word_list_searches_and_loads_related_rows_up_front(
    console, django_assert_max_num_queries
):
    make_words(make_user("ana"), 3)
    make_words(make_user("ben"), 12)
    url = reverse("admin:vocabulary_word_changelist")
    with django_assert_max_num_queries(8):  # not one per word, user or entry
        page = console.get(url)
    assert page.status_code == 200
    assert page.content.decode().count("palabra") >= 15

    found = console.get(url, {"q": "ana"}).content.decode()
    assert "3 words" in found
    assert console.get(url, {"q": "palabra11"}).content.decode().count("palabra11") >= 1


def test_staff_can_read_a_word_but_not_add_or_change_it(console):
    [word] = make_words(make_user("ana"), 1)
    change_url = reverse("admin:vocabulary_word_change", args=[word.pk])
    page = console.get(change_url)
    assert page.status_code == 200
    assert "Los pescadores se ríen." in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert console.get(reverse("admin:vocabulary_word_add")).status_code == 403
    console.post(change_url, {"lemma": "otra", "status": "known"})
    word.refresh_from_db()
    assert (word.lemma, word.status) == ("palabra0", "learning")


def test_deleting_a_learner_in_the_admin_deletes_their_words(console):
    ana, ben = make_user("ana"), make_user("ben")
    for word in [*make_words(ana, 2), *make_words(ben, 1)]:
        Card.objects.create(word=word, due=timezone.now())
        services.review_submit(
            user=word.user, word_id=word.id, rating="good", review_id=uuid.uuid4()
        )
    url = reverse("admin:accounts_user_delete", args=[ana.pk])
    confirm = console.get(url).content.decode()
    assert "palabra0 (es)" in confirm  # the confirmation lists the words going with her
    response = console.post(url, {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(username="ana").exists()
    assert list(Word.objects.values_list("user__username", flat=True)) == ["ben"]
    assert list(Review.objects.values_list("user__username", flat=True)) == ["ben"]
    assert list(Card.objects.values_list("word__user__username", flat=True)) == ["ben"]


def test_staff_can_read_reviews_but_not_add_or_change_them(console, django_assert_max_num_queries):
    ana = make_user("ana")
    words = make_words(ana, 3)
    for word in words:
        Card.objects.create(word=word, due=timezone.now())
        services.review_submit(user=ana, word_id=word.id, rating="good", review_id=uuid.uuid4())
    url = reverse("admin:vocabulary_review_changelist")
    with django_assert_max_num_queries(8):  # not one per review, word or user
        page = console.get(url)
    assert page.status_code == 200
    assert page.content.decode().count("palabra") >= 3
    assert "1 review" in console.get(url, {"q": "palabra2"}).content.decode()

    review = Review.objects.get(word=words[0])
    change_url = reverse("admin:vocabulary_review_change", args=[review.pk])
    page = console.get(change_url)
    assert page.status_code == 200
    assert str(review.review_id) in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert console.get(reverse("admin:vocabulary_review_add")).status_code == 403
    console.post(change_url, {"rating": "1"})
    review.refresh_from_db()
    assert review.rating == Review.Rating.GOOD
