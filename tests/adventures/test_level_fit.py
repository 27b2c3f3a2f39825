"""Keeping passages at their level: the bands per CEFR level, the estimate
the generate step records, and the one extra call for a passage too hard for
its level."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from adventures import services
from adventures.models import Entry
from langlearn import levels
from langlearn.levels import CefrLevel
from outbound.anthropic.client import build_prompt
from outbound.roles import GenerationRequest
from outbound.stubs import corpus

from tests.support.api import client_for
from tests.support.factories import make_user
from tests.support.pipeline import run_pipeline

ES = corpus.LANGUAGES.index("es")
RARE, RARER = (row[ES] for row in corpus.OFF_LEVEL)


def test_every_level_has_a_band_and_the_bands_widen_with_the_level():
    assert set(levels.LEVELS) == set(CefrLevel.values) == set(levels.LEVEL_BANDS)
    expected = [levels.LEVEL_BANDS[level] for level in levels.LEVELS]
    assert expected == sorted(expected)
    assert len(set(expected)) == len(expected)  # each level allows more than the one below
    assert set(expected) <= set(levels.BANDS)
    assert levels.LEVEL_BANDS["C2"] == levels.BANDS[-1]  # C2: any word
    assert list(levels.BAND_FLOORS) == sorted(levels.BAND_FLOORS, reverse=True)
    # Every Zipf value falls in exactly one band.
    assert levels.band_of_zipf(7.0) == 1
    assert levels.band_of_zipf(levels.BAND_FLOORS[0]) == 1
    assert levels.band_of_zipf(levels.BAND_FLOORS[-1] - 0.01) == levels.BANDS[-1]
    assert levels.band_of_zipf(0.0) == levels.BANDS[-1]
    assert 0 < levels.ON_LEVEL_SHARE <= 1


def test_the_floors_are_the_measured_zipf_of_each_lemma_rank():
    """The table in langlearn/levels.py is what wordfreq gives today (±0.04)."""
    for language in ("es", "fr"):
        cutoffs = levels.rank_cutoffs(language)
        for floor, zipf in zip(levels.BAND_FLOORS, cutoffs.values(), strict=True):
            assert zipf == pytest.approx(floor, abs=0.04)


def test_common_words_are_in_band_one_and_rare_ones_far_above_a1():
    assert levels.band("casa", "es") == 1
    assert levels.band("ser", "es") == 1
    assert levels.band("Haus", "de") == 1
    assert levels.band("astrolabio", "es") == levels.BANDS[-1]
    assert not levels.within(levels.band("acantilado", "es"), "A2")
    assert levels.within(levels.band("acantilado", "es"), "C2")


def _words(*sentences: str) -> list[levels.Word]:
    from outbound.spacy.client import SpacyAnnotator

    tokens = SpacyAnnotator().annotate_sync(list(sentences), "es")
    return [levels.Word(t.text, t.lemma, t.pos, t.sentence) for t in tokens]


def test_a_plain_passage_has_its_lemmas_in_band_and_a_rare_one_not():
    plain = levels.measure(
        _words("Tu casa es grande.", "Hoy comes pan con tu amigo."), language="es", level="A1"
    )
    assert plain.on_level
    assert plain.share == 1.0
    rare = levels.measure(_words(RARE), language="es", level="A2")
    assert not rare.on_level
    assert "astrolabio" in rare.above
    # Names and function words do not count.
    named = levels.measure(
        _words("Tu amigo Pedro vive en la casa de María."), language="es", level="A1"
    )
    assert named.content_lemmas == 3  # amigo, vivir, casa


def test_the_learners_own_words_to_review_are_not_held_against_the_level():
    from adventures import levelfit
    from outbound.roles import GeneratedPassage

    passage = GeneratedPassage(sentences=[RARE], choices=[])
    plain = GenerationRequest("es", "A2", "", 1, False)
    asked = GenerationRequest("es", "A2", "", 1, False, review_words=["Astrolabio"])
    assert "astrolabio" in asyncio.run(levelfit.measure(passage, plain)).estimate.words_above("A2")
    # The learner asked for it (a word they are learning): never named as too rare.
    measured = asyncio.run(levelfit.measure(passage, asked))
    assert "astrolabio" not in measured.estimate.words_above("A2")
    assert "astrolabio" not in measured.fit.above


RARE_WORDS = ["alquimista", "escudriñar", "astrolabio", "herrumbroso", "relicario", "ornamentado"]


def test_a_passage_hard_only_by_the_learners_review_words_is_not_asked_again(settings, call_log):
    """The drill's rare sentence, when its rare words are the learner's own
    words to review, is on level: one call, nothing named."""
    from adventures import levelfit
    from outbound import factory

    settings.STUB_OFF_LEVEL = "first"
    generator = factory.get_generator()
    request = GenerationRequest("es", "A2", "", 1, False, review_words=RARE_WORDS)
    passage = asyncio.run(generator.generate(request))
    assert RARE in passage.sentences
    fitted = asyncio.run(levelfit.fit_to_level(passage, request, generator))
    assert not fitted.regenerated
    assert generate_calls(call_log) == 1
    assert not set(RARE_WORDS) & set(fitted.measured.estimate.words_above("A2"))

    # For a learner without those words, the same passage is harder, and they
    # are named.
    plain = asyncio.run(levelfit.measure(passage, GenerationRequest("es", "A2", "", 1, False)))
    assert plain.estimate.value > fitted.measured.estimate.value
    assert {"astrolabio", "relicario"} <= set(plain.estimate.words_above("A2"))


def test_the_themes_own_words_are_not_held_against_the_level():
    from adventures import levelfit

    request = GenerationRequest("es", "A2", "un faro y un astrolabio", 1, False)
    assert {"faro", "astrolabio"} <= levelfit.own_words(request)
    from outbound.roles import GeneratedPassage

    passage = GeneratedPassage(sentences=["El astrolabio está en el faro."], choices=[])
    measured = asyncio.run(levelfit.measure(passage, request))
    assert measured.estimate.words_above("A2") == []


def test_the_prompt_names_the_words_to_avoid():
    request = GenerationRequest(
        target_language="es",
        level="A2",
        theme="the sea",
        position=1,
        is_final=False,
        off_level_words=("astrolabio", "relicario"),
    )
    prompt = build_prompt(request)
    assert "astrolabio, relicario" in prompt
    assert "CEFR A2" in prompt
    plain = build_prompt(GenerationRequest("es", "A2", "", 1, False))
    assert "too rare" not in plain
    forms = build_prompt(
        GenerationRequest(
            "es", "A2", "", 1, False, off_level_constructions=("present subjunctive",)
        )
    )
    assert "verb forms taught after the level (present subjunctive)" in forms
    assert "too rare" not in forms


def test_the_prompt_states_the_learners_vocabulary_and_the_new_words_budget():
    request = GenerationRequest("es", "A2", "", 1, False, known_words=2500, new_words=4)
    prompt = build_prompt(request)
    assert "the 2,500 most frequent words of Spanish" in prompt
    assert "at most 4 content words beyond those" in prompt
    assert "most frequent words" not in build_prompt(GenerationRequest("es", "A2", "", 1, False))


@pytest.mark.django_db
def test_the_generation_request_carries_the_learners_target():
    from adventures import selectors

    adventure = services.adventure_create(user=make_user(), target_language="es", level="B1")
    request = selectors.generation_request(entry=adventure.entries.get())
    assert (request.known_words, request.new_words) == (3500, 5)


# --- Through the pipeline (stub providers, in this process) ---------------------


@pytest.fixture
def call_log(settings, tmp_path: Path) -> Path:
    log = tmp_path / "calls.log"
    settings.STUB_CALL_LOG = str(log)
    return log


def generate_calls(log: Path) -> int:
    return Counter(log.read_text().split())["generate"]


def first_entry(level: str) -> Entry:
    adventure = services.adventure_create(user=make_user(), target_language="es", level=level)
    return run_pipeline(adventure.entries.get())


@pytest.mark.django_db
def test_an_off_level_passage_is_asked_for_once_more_and_the_better_one_kept(settings, call_log):
    settings.STUB_OFF_LEVEL = "first"
    entry = first_entry("A2")
    assert generate_calls(call_log) == 2
    # The second passage left the rare words out, and is the one the learner gets.
    assert RARE not in entry.text
    assert entry.level_regenerated
    assert "astrolabio" not in entry.level_words_above
    assert entry.level_fit is not None
    assert entry.level_content_lemmas > 0
    # Both calls are paid for (the stub bills 200 input tokens a call here).
    assert entry.llm_input_tokens == 2 * 200
    assert entry.status == Entry.Status.COMPLETE


@pytest.mark.django_db
def test_never_more_than_one_extra_call_and_a_worse_second_passage_is_dropped(settings, call_log):
    settings.STUB_OFF_LEVEL = "always"
    entry = first_entry("A2")
    assert generate_calls(call_log) == 2
    assert RARE in entry.text  # the first passage, the better of the two
    assert RARER not in entry.text
    assert entry.level_regenerated
    assert "astrolabio" in entry.level_words_above
    assert entry.llm_input_tokens == 2 * 200
    # The tokens stored are those of the passage kept, with their bands.
    band = entry.tokens.get(text="astrolabio").band
    assert band == levels.BANDS[-1]


@pytest.mark.django_db
def test_an_on_level_passage_costs_no_extra_call(settings, call_log):
    settings.STUB_OFF_LEVEL = "first"
    entry = first_entry("C2")  # every word is within C2
    assert generate_calls(call_log) == 1
    assert not entry.level_regenerated
    assert entry.level_fit == 1.0
    assert entry.llm_input_tokens == 200


@pytest.mark.django_db
def test_without_the_drill_or_with_the_retry_off_the_fit_is_recorded_only(settings, call_log):
    entry = first_entry("A2")  # the stub's story cannot get simpler: it does not offer to
    assert generate_calls(call_log) == 1
    assert not entry.level_regenerated
    assert entry.level_fit is not None
    assert entry.level_fit < levels.ON_LEVEL_SHARE

    settings.STUB_OFF_LEVEL = "first"
    settings.LEVEL_FIT_RETRY = False
    entry = first_entry_for_another_learner("A2")
    assert generate_calls(call_log) == 2  # one for each entry
    assert RARE in entry.text
    assert not entry.level_regenerated


def first_entry_for_another_learner(level: str) -> Entry:
    user = make_user(username="bea")
    adventure = services.adventure_create(user=user, target_language="es", level=level)
    return run_pipeline(adventure.entries.get())


@pytest.mark.django_db
def test_the_entry_payload_carries_the_fit_the_bands_and_the_learners_figures(settings):
    settings.STUB_OFF_LEVEL = "always"
    user = make_user()
    adventure = services.adventure_create(user=user, target_language="es", level="A2")
    entry = run_pipeline(adventure.entries.get())
    client = client_for(user)
    url = f"/api/adventures/{adventure.id}/entries/{entry.id}"

    body = client.get(url).json()
    level = body["level"]
    assert level["fit"] == pytest.approx(entry.level_fit)
    assert level["on_level"] is False
    assert level["regenerated"] is True
    assert "astrolabio" in level["words_above"]
    assert level["estimate"] == pytest.approx(entry.level_estimate)
    assert level["estimate"] >= 3.5
    assert level["estimated_level"] in {"B2", "C1", "C2"}
    assert "astrolabio" in level["reasons"]["words"]
    assert level["reasons"]["sentence_length"] > 0
    content = {t["lemma"].lower() for t in body["tokens"] if t["band"] is not None}
    assert level["new_words"] == len(content)
    assert level["known_share"] == 0
    bands = {t["text"]: t["band"] for t in body["tokens"]}
    assert bands["astrolabio"] == 6
    assert bands["."] is None

    # Marking the page known moves the learner's figures, not the passage's.
    assert client.post(f"{url}/known").status_code == 200
    level = client.get(url).json()["level"]
    assert level["known_share"] == 1
    assert level["new_words"] == 0
    assert level["fit"] == pytest.approx(entry.level_fit)


@pytest.mark.django_db
def test_a_plain_a2_passage_is_on_level_in_the_payload():
    """The stub's story ("Una anciana te da una llave pesada...") is plainly
    A2: the learner is not told it is off level."""
    user = make_user()
    adventure = services.adventure_create(user=user, target_language="es", level="A2")
    entry = run_pipeline(adventure.entries.get())
    level = client_for(user).get(f"/api/adventures/{adventure.id}/entries/{entry.id}").json()
    level = level["level"]
    assert level["on_level"] is True
    assert level["estimated_level"] in {"A1", "A2", "B1"}
    assert level["reasons"]["constructions"] == []
    assert level["regenerated"] is False


@pytest.mark.django_db
def test_the_stats_command_gives_the_reask_rate_per_language_and_level(settings):
    first_entry("C2")
    first_entry_for_another_learner("A2")  # the stub's plain story: on level
    settings.STUB_OFF_LEVEL = "always"
    adventure = services.adventure_create(
        user=make_user(username="cai"), target_language="es", level="A2"
    )
    run_pipeline(adventure.entries.get())  # too hard, asked again, still too hard
    out = StringIO()
    call_command("level_fit", "--json", stdout=out)
    rows = {(r["language"], r["level"]): r for r in json.loads(out.getvalue())["rows"]}
    assert rows[("es", "C2")]["on_level_share"] == 1
    assert rows[("es", "C2")]["measured"] == 1
    assert rows[("es", "C2")]["reask_rate"] == 0
    a2 = rows[("es", "A2")]
    assert (a2["measured"], a2["on_level"], a2["regenerated"]) == (2, 1, 1)
    assert a2["reask_rate"] == 0.5
    assert a2["reasked_for"] == {"level": 1, "new_words": 1}  # both: it had 10 new words
    assert 0 < a2["mean_known"] < 1
    assert 1.0 <= a2["mean_estimate"] <= 6.0
    text = StringIO()
    call_command("level_fit", stdout=text)
    assert "es       A2" in text.getvalue()
    assert "50%" in text.getvalue()


def test_the_openapi_schema_documents_the_level_fields():
    from drf_spectacular.generators import SchemaGenerator

    components = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    entry = components["Entry"]["properties"]["level"]
    assert entry["nullable"] is True
    assert entry["allOf"][0]["$ref"].endswith("/LevelFit")
    fit = components["LevelFit"]
    assert set(fit["required"]) == {
        "estimate",
        "estimated_level",
        "reasons",
        "fit",
        "on_level",
        "content_lemmas",
        "words_above",
        "regenerated",
        "reasked_for",
        "known_share",
        "new_words",
        "coverage",
    }
    assert fit["properties"]["reasked_for"]["nullable"] is True
    covered = components["Coverage"]
    assert set(covered["required"]) == {
        "known",
        "learning",
        "new_words",
        "running_words",
        "basis",
        "vocabulary",
    }
    assert fit["properties"]["fit"]["nullable"] is True
    assert fit["properties"]["estimate"]["nullable"] is True
    reasons = components["LevelReasons"]
    assert set(reasons["required"]) >= {"words", "constructions", "sentence_length"}
    band = components["Token"]["properties"]["band"]
    assert band["type"] == "integer"
    assert band["nullable"] is True


@pytest.mark.django_db
def test_the_admin_shows_the_fit_on_the_entry_within_the_query_bound(
    settings, django_assert_max_num_queries
):
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    settings.STUB_OFF_LEVEL = "always"
    entry = first_entry("A2")
    console = Client()
    console.force_login(get_user_model().objects.create_superuser("staff", password="x-pass-12"))
    change = reverse("admin:adventures_entry_change", args=[entry.pk])
    listing = reverse("admin:adventures_entry_changelist")
    with django_assert_max_num_queries(15):
        page = console.get(change)
    assert page.status_code == 200
    html = page.content.decode()
    assert f"{entry.level_fit:.0%} of content words within A2" in html
    assert "too hard for A2" in html
    assert "astrolabio" in html  # among the words above the level, and a token's band
    assert "Level fit" in html
    with django_assert_max_num_queries(15):
        rows = console.get(listing + "?level_regenerated__exact=1")
    assert "too hard for A2" in rows.content.decode()


FIRST_PASSAGES = """
import json, threading
import django
django.setup()
import wordfreq
from simplemma.strategies.dictionaries import (
    DEFAULT_DICTIONARY_FACTORY,
    LOW_MEMORY_DICTIONARY_FACTORY,
)
from langlearn import levels
from outbound import factory

lemmatizer = factory.get_lemmatizer()
start = threading.Barrier(6)

def first_passage():
    start.wait()
    tokens = lemmatizer.annotate_sync(["La casa del pescador es grande."], "es")
    words = [levels.Word(t.text, t.lemma, t.pos, t.sentence) for t in tokens]
    levels.measure(words, language="es", level="A2")

jobs = [threading.Thread(target=first_passage) for _ in range(6)]
for job in jobs: job.start()
for job in jobs: job.join()
print(json.dumps({
    "simplemma": LOW_MEMORY_DICTIONARY_FACTORY._get_dictionary.cache_info().misses,
    # simplemma's dictionaries are read in their compressed form (low_memory):
    # the in-memory ones, 90-135 MB a language, are never built.
    "simplemma_in_memory": DEFAULT_DICTIONARY_FACTORY._get_dictionary.cache_info().misses,
    "wordfreq": wordfreq.get_frequency_dict.cache_info().misses,
    "families": levels._family_frequencies.cache_info().misses,
}))
"""


@pytest.mark.slow
def test_a_fresh_workers_concurrent_first_passages_load_a_language_once(tmp_path):
    """Six jobs measuring their first Spanish passage at once, in a new
    process: simplemma's dictionary, wordfreq's list and the lemma families
    are each built once (each load is CPU-bound: doing it six times over
    would delay every one of those learners by seconds)."""
    import subprocess
    import sys

    from tests.support.processes import subprocess_env

    result = subprocess.run(
        [sys.executable, "-c", FIRST_PASSAGES],
        env=subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    loads = json.loads(result.stdout.strip().splitlines()[-1])
    assert loads == {"simplemma": 1, "simplemma_in_memory": 0, "wordfreq": 1, "families": 1}


@pytest.mark.django_db
def test_coverage_is_recorded_for_the_learner_and_shown_in_payload_and_progress():
    """A learner with no words and no placement gets coverage from the level's
    vocabulary, and is told so; their own statuses take over word by word."""
    user = make_user()
    adventure = services.adventure_create(user=user, target_language="es", level="A2")
    entry = run_pipeline(adventure.entries.get())
    assert entry.coverage["basis"] == "level"
    assert entry.coverage["vocabulary"] == 2500
    assert 0.5 < entry.coverage["known"] < 1
    assert "faro" in entry.coverage["new_words"]
    client = client_for(user)
    body = client.get(f"/api/adventures/{adventure.id}/entries/{entry.id}").json()
    assert body["level"]["coverage"] == entry.coverage
    progress = client.get("/api/progress", {"language": "es"}).json()["coverage"]
    assert progress["passages"] == 1
    assert progress["known"] == pytest.approx(entry.coverage["known"])
    assert progress["new_words"] == len(entry.coverage["new_words"])

    # Knowing "faro" and learning "pescador", the learner's next passage of
    # the same words is covered accordingly.
    for lemma, status in (("faro", "known"), ("pescador", "learning")):
        saved = client.post("/api/words", {"language": "es", "lemma": lemma}, format="json")
        assert saved.status_code == 201, saved.content
        assert (
            client.patch(
                f"/api/words/{saved.json()['id']}", {"status": status}, format="json"
            ).status_code
            == 200
        )
    again = services.adventure_create(user=user, target_language="es", level="A2")
    second = run_pipeline(again.entries.get())
    assert "faro" not in second.coverage["new_words"]
    assert "pescador" not in second.coverage["new_words"]
    assert second.coverage["learning"] > 0
    assert second.coverage["known"] > entry.coverage["known"]


def place(user, vocabulary_size: int, level: str = "B1") -> None:
    """The learner took the placement check in Spanish and it estimated them at
    ``vocabulary_size`` lemmas."""
    from django.utils import timezone

    from vocabulary.models import Placement

    Placement.objects.create(
        user=user,
        language="es",
        vocabulary_size=vocabulary_size,
        level=level,
        hits=30,
        real_words=40,
        false_alarms=0,
        pseudo_words=12,
        bands=[],
        answers=[],
        answered_at=timezone.now(),
    )


@pytest.mark.django_db
def test_a_placement_seeds_the_coverage_and_the_generation_target():
    from adventures import selectors

    user = make_user()
    place(user, 6000, "C1")
    adventure = services.adventure_create(user=user, target_language="es", level="A2")
    request = selectors.generation_request(entry=adventure.entries.get())
    assert (request.known_words, request.new_words) == (6000, 4)
    entry = run_pipeline(adventure.entries.get())
    assert (entry.coverage["basis"], entry.coverage["vocabulary"]) == ("placement", 6000)
    by_level = first_entry_for_another_learner("A2")  # no placement: the level's 2,500
    assert (by_level.coverage["basis"], by_level.coverage["vocabulary"]) == ("level", 2500)
    assert entry.coverage["known"] >= by_level.coverage["known"]


def b2_story_for_a_learner_of_1000_words(theme: str) -> Entry:
    """A B2 story whose first passage carries the drill's sentence of rare
    words: estimated B2-C1, so not too hard for B2, but for a learner whose
    placement says 1,000 words it brings 13 new content words, more than
    twice B2's budget of 6."""
    user = make_user(username="dee")
    place(user, 1000)
    adventure = services.adventure_create(user=user, target_language="es", level="B2", theme=theme)
    return run_pipeline(adventure.entries.get())


@pytest.mark.django_db
def test_a_passage_far_outside_the_learners_coverage_is_asked_for_once_more(settings, call_log):
    settings.STUB_OFF_LEVEL = "first"
    entry = b2_story_for_a_learner_of_1000_words("the sea")
    assert generate_calls(call_log) == 2
    assert entry.level_regenerated
    assert entry.level_reasked_for == Entry.ReaskReason.NEW_WORDS
    assert entry.level_estimate < 5.5  # not too hard for B2 by the estimate
    # The passage kept is the second, without the rare words.
    assert RARE not in entry.text
    assert "astrolabio" not in entry.coverage["new_words"]
    assert len(entry.coverage["new_words"]) <= 12
    body = client_for(entry.adventure.user).get(
        f"/api/adventures/{entry.adventure_id}/entries/{entry.id}"
    )
    assert body.json()["level"]["reasked_for"] == "new_words"


@pytest.mark.django_db
def test_the_themes_own_words_never_make_a_passage_far_outside_the_band(settings, call_log):
    """The same passage, in a story about an alchemist's astrolabe and
    reliquary: those two words are the theme's, 11 new words remain, within
    twice the budget."""
    settings.STUB_OFF_LEVEL = "first"
    entry = b2_story_for_a_learner_of_1000_words("un alquimista, su astrolabio y su relicario")
    assert generate_calls(call_log) == 1
    assert not entry.level_regenerated
    assert entry.level_reasked_for == ""
    assert RARE in entry.text
    # Recorded as they are: new to the learner, whatever the theme.
    assert {"astrolabio", "relicario"} <= set(entry.coverage["new_words"])
