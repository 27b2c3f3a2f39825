"""The placement check: the test a learner gets, the estimate, the stored
result, bad answers, other learners, the shipped item pools."""

from __future__ import annotations

import math
import random

import pytest
import simplemma
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from wordfreq import zipf_frequency

from accounts.models import User
from langlearn.difficulty.vocabulary import rank
from vocabulary import selectors
from vocabulary.models import Placement
from vocabulary.placement import items as placement_items
from vocabulary.placement.scoring import level_for, score

from tests.support.api import client_for
from tests.support.factories import make_user

URL = "/api/placement?language=es"
LANGUAGES = ("es", "fr", "de", "it", "pt")


def the_items(user: User, language: str = "es") -> list[placement_items.Item]:
    return placement_items.learner_items(user.pk, language)


def answers(items, *, real=lambda item: False, pseudo=lambda item: False) -> list[dict]:
    return [{"id": item.id, "known": pseudo(item) if item.pseudo else real(item)} for item in items]


def post(api, body, url=URL):
    return api.post(url, body, format="json")


# --- the test -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_test_is_40_to_60_items_with_a_fifth_to_a_quarter_pseudo_words(api, learner):
    response = api.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"language", "items", "estimated_seconds", "result"}
    assert body["result"] is None
    assert 40 <= len(body["items"]) <= 60
    assert body["estimated_seconds"] < 120
    assert all(set(item) == {"id", "word"} for item in body["items"])
    pseudo = sum(item.pseudo for item in the_items(learner))
    assert 0.20 <= pseudo / len(body["items"]) <= 0.25


@pytest.mark.django_db
def test_the_same_learner_gets_the_same_list_twice_and_another_learner_another(api, learner):
    first, again = api.get(URL).json()["items"], api.get(URL).json()["items"]
    assert first == again
    other = client_for(make_user("ben")).get(URL).json()["items"]
    assert other != first
    assert len({item["id"] for item in first}) == len(first)  # no duplicates
    assert len({item["word"].lower() for item in first}) == len(first)


@pytest.mark.django_db
def test_real_words_are_drawn_across_the_frequency_bands(learner):
    bands = [item.band for item in the_items(learner) if not item.pseudo]
    assert sorted(set(bands)) == list(range(1, 11))
    assert all(bands.count(band) == placement_items.WORDS_PER_BAND for band in set(bands))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_pools_hold_no_pseudo_word_that_is_a_word_and_no_duplicates(language):
    pool = placement_items.pool(language)
    real = [item for band in pool.bands for item in band]
    words = [item.word.lower() for item in [*real, *pool.pseudowords]]
    assert len(set(words)) == len(words)
    assert len({item.id for item in [*real, *pool.pseudowords]}) == len(words)
    for item in pool.pseudowords:
        assert zipf_frequency(item.word, language) == 0, item.word
        # low_memory: simplemma's same dictionary (the same file), read as the
        # annotator reads it; its in-memory form costs seconds a language here.
        assert not simplemma.is_known(item.word, lang=language, low_memory=True), item.word
        assert item.word.isalpha()
    for band, items in enumerate(pool.bands, start=1):
        for item in items:
            assert len(item.word) >= 3
            assert item.word.isalpha()
            assert (band - 1) * 1000 < rank(item.word, language) <= band * 1000, item.word


@pytest.mark.slow
def test_the_shipped_pools_are_what_the_command_makes():
    call_command("placement_items", "--check", "--language", "es", "--language", "it")


# --- the estimate ------------------------------------------------------------------------


def test_the_estimate_grows_with_the_real_words_claimed_and_drops_with_pseudo_words():
    items = placement_items.learner_items("someone", "es")
    real = [item for item in items if not item.pseudo]
    pseudo = [item for item in items if item.pseudo]

    def estimate(real_known: int, pseudo_known: int) -> int:
        known = {item.id: index < real_known for index, item in enumerate(real)}
        known |= {item.id: index < pseudo_known for index, item in enumerate(pseudo)}
        return score(items, known, band_width=1000).vocabulary_size

    by_band = sorted(real, key=lambda item: item.band or 0)
    real = by_band  # claim the most frequent first, as a learner would
    sizes = [estimate(claimed, 0) for claimed in range(0, len(real) + 1, 4)]
    assert sizes == sorted(sizes)
    assert sizes[0] == 0
    assert sizes[-1] == 10000
    drops = [estimate(24, claimed) for claimed in range(len(pseudo) + 1)]
    assert drops == sorted(drops, reverse=True)
    assert drops[0] > drops[-1] == 0


def test_claiming_everything_scores_low():
    items = placement_items.learner_items("someone", "es")
    everything = score(items, {item.id: True for item in items}, band_width=1000)
    assert everything.vocabulary_size == 0
    assert everything.level == "A1"
    assert everything.false_alarms == everything.pseudo_words == 12
    pseudo = [item.id for item in items if item.pseudo]
    all_but_one = {item.id: item.id != pseudo[0] for item in items}
    assert score(items, all_but_one, band_width=1000).vocabulary_size < 1000


@pytest.mark.parametrize(
    ("size", "level"),
    [(0, "A1"), (1499, "A1"), (1500, "A1"), (2500, "A2"), (3600, "B1"), (4000, "B2"),
     (4999, "C1"), (8000, "C2"), (10000, "C2")],
)  # fmt: skip
def test_the_level_is_the_highest_whose_vocabulary_the_estimate_reaches(size, level):
    assert level_for(size) == level


def simulated(true_size: int, guessing: float, learners: int = 200) -> list[int]:
    """Estimates for learners who know a word of rank r with probability
    1 / (1 + exp((r - size) / 400)) and say yes to what they do not know with
    probability ``guessing``."""
    rng = random.Random(true_size * 1000 + int(guessing * 100))
    ranks = {item.id: rank(item.word, "es") for band in placement_items.pool("es").bands
             for item in band}  # fmt: skip
    estimates = []
    for learner in range(learners):
        items = placement_items.learner_items(f"simulated-{learner}", "es")
        known = {}
        for item in items:
            knows = (
                False
                if item.pseudo
                else rng.random() < 1 / (1 + math.exp((ranks[item.id] - true_size) / 400))
            )
            known[item.id] = knows or rng.random() < guessing
        estimates.append(score(items, known, band_width=1000).vocabulary_size)
    return estimates


@pytest.mark.parametrize("true_size", [1000, 4000, 8000])
def test_honest_learners_are_estimated_near_their_size_and_guessers_lower(true_size):
    honest = simulated(true_size, 0.0)
    assert abs(sum(honest) / len(honest) - true_size) < 250
    guessers = simulated(true_size, 0.5)
    assert sum(guessers) / len(guessers) < true_size + 600


# --- the API ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_answering_stores_the_result_and_the_get_shows_it(api, learner):
    items = the_items(learner)
    response = post(api, {"answers": answers(items, real=lambda item: item.band <= 3)})
    assert response.status_code == 201
    result = response.json()
    assert set(result) == {
        "language",
        "vocabulary_size",
        "level",
        "hits",
        "real_words",
        "false_alarms",
        "pseudo_words",
        "answered_at",
    }
    assert result["vocabulary_size"] == 3000
    assert result["level"] == "A2"
    assert (result["hits"], result["real_words"]) == (12, 40)
    assert (result["false_alarms"], result["pseudo_words"]) == (0, 12)
    assert api.get(URL).json()["result"] == result
    assert selectors.placement_vocabulary(learner, "es") == 3000
    assert selectors.placement_vocabulary(learner.pk, "es") == 3000
    assert selectors.placement_vocabulary(learner, "fr") is None


@pytest.mark.django_db
def test_the_same_answers_again_are_idempotent_and_new_ones_replace(api, learner):
    items = the_items(learner)
    body = {"answers": answers(items, real=lambda item: item.band <= 5)}
    first = post(api, body).json()
    again = post(api, {"answers": list(reversed(body["answers"]))})
    assert again.status_code == 200
    assert again.json() == first
    assert Placement.objects.filter(user=learner).count() == 1
    pseudo_claimed = answers(items, real=lambda item: item.band <= 5, pseudo=lambda item: True)
    replaced = post(api, {"answers": pseudo_claimed})
    assert replaced.status_code == 201
    assert replaced.json()["vocabulary_size"] < first["vocabulary_size"]
    assert replaced.json()["false_alarms"] == 12
    assert Placement.objects.filter(user=learner).count() == 1


@pytest.mark.django_db
def test_another_learner_cannot_see_your_placement(api, learner):
    post(api, {"answers": answers(the_items(learner), real=lambda item: True)})
    ben = make_user("ben")
    assert client_for(ben).get(URL).json()["result"] is None
    assert selectors.placement_vocabulary(ben, "es") is None
    # Your answers are not Ben's test: his ids differ.
    refused = post(client_for(ben), {"answers": answers(the_items(learner))})
    assert refused.status_code == 400


@pytest.mark.django_db
def test_each_language_has_its_own_placement(api, learner):
    post(api, {"answers": answers(the_items(learner), real=lambda item: True)})
    fr = post(
        api,
        {"answers": answers(the_items(learner, "fr"))},
        url="/api/placement?language=fr",
    )
    assert fr.status_code == 201
    assert fr.json()["vocabulary_size"] == 0
    assert selectors.placement_vocabulary(learner, "es") == 10000


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/placement?language=en", "/api/placement?language=xx",
                                 "/api/placement", "/api/placement?language="])  # fmt: skip
def test_a_language_we_do_not_teach_is_a_400(api, url):
    for response in (api.get(url), post(api, {"answers": [{"id": "x", "known": True}]}, url)):
        assert response.status_code == 400
        assert "language" in response.json()


@pytest.mark.django_db
def test_bad_answers_are_a_400_naming_the_problem(api, learner):
    items = the_items(learner)
    good = answers(items)

    def problem(body) -> dict:
        response = post(api, body)
        assert response.status_code == 400, response.json()
        return response.json()

    assert "answers" in problem({})
    assert problem({"answers": []})["answers"] == ["This list may not be empty."]
    assert "answers" in problem({"answers": "all"})
    assert "non_field_errors" in problem([])  # not a JSON object
    not_bool = [dict(good[0], known="yes"), *good[1:]]
    assert problem({"answers": not_bool})["answers"] == ["answers[0].known: Must be true or false."]
    one = [dict(good[0], known=1), *good[1:]]
    assert "answers[0].known" in problem({"answers": one})["answers"][0]
    no_id = [{"known": True}, *good[1:]]
    assert problem({"answers": no_id})["answers"] == ["answers[0].id: This field is required."]
    number_id = [dict(good[0], id=5), *good[1:]]
    assert "answers[0].id" in problem({"answers": number_id})["answers"][0]
    twice = problem({"answers": [*good, good[3]]})["answers"]
    assert twice == [f"Answered more than once: {good[3]['id']}."]
    unknown = problem({"answers": [*good, {"id": "nosuchitem", "known": True}]})["answers"]
    assert unknown[0].startswith("Not items of your test: nosuchitem")
    missing = problem({"answers": good[:-2]})["answers"]
    assert missing[0].startswith(f"Every item must be answered; 2 of {len(items)} are missing")
    assert good[-1]["id"] in missing[0]
    assert not Placement.objects.exists()


@pytest.mark.django_db
def test_the_placement_needs_a_token(anonymous):
    assert anonymous.get(URL).status_code == 401
    assert anonymous.post(URL, {"answers": []}, format="json").status_code == 401


# --- the admin ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_see_placements_read_only(api, learner, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    post(api, {"answers": answers(the_items(learner), real=lambda item: item.band <= 2)})
    console = Client()
    console.force_login(User.objects.create_superuser("staff", password="staff-passphrase-1"))
    listing = console.get(reverse("admin:vocabulary_placement_changelist"))
    assert listing.status_code == 200
    assert "ana" in listing.content.decode()
    placement = Placement.objects.get()
    page = console.get(reverse("admin:vocabulary_placement_change", args=[placement.pk]))
    assert page.status_code == 200
    assert "2000" in page.content.decode()
    assert console.get(reverse("admin:vocabulary_placement_add")).status_code == 403
