"""Known-word coverage (langlearn/difficulty/coverage.py) on the annotator's
real tokens: what a learner is told they know of a passage."""

from __future__ import annotations

import pytest

from langlearn import levels
from langlearn.difficulty import coverage, vocabulary
from outbound.spacy.client import SpacyAnnotator

ANNOTATOR = SpacyAnnotator()


def words(language: str, *sentences: str) -> list[levels.Word]:
    tokens = ANNOTATOR.annotate_sync(list(sentences), language)
    return [levels.Word(t.text, t.lemma, t.pos, t.sentence, t.morph) for t in tokens]


def covered(passage: list[levels.Word], statuses: dict[str, str], size: int = 0, **kw):
    return coverage.coverage(
        passage, language="es", statuses=statuses, vocabulary_size=size, basis="level", **kw
    )


def test_running_words_count_each_time_they_occur():
    # Nothing within the (empty) estimated vocabulary: only marked words are known.
    passage = words("es", "El gato come y el gato duerme.", "Mi gato es negro.")
    once = covered(passage, {"gato": "known"})
    assert once.running_words == 11  # every word, each time; punctuation is no word
    assert once.known == pytest.approx(3 / 11, abs=1e-4)
    assert once.learning == 0
    assert once.new_words == ["comer", "dormir", "negro"]  # content words only
    learning = covered(passage, {"gato": "learning", "comer": "known"})
    assert learning.learning == pytest.approx(3 / 11, abs=1e-4)
    assert learning.known == pytest.approx(1 / 11, abs=1e-4)
    assert learning.new_words == ["dormir", "negro"]


def test_names_and_numbers_are_neither_known_nor_new():
    passage = words("es", "Anselmo come 27 naranjas con Anselmo.")
    result = covered(passage, {})
    assert result.running_words == 3  # come, naranjas, con
    assert result.new_words == ["comer", "naranja"]


def test_unmarked_words_are_judged_by_the_estimated_vocabulary_and_marks_win():
    passage = words("es", "La casa es grande y el astrolabio es viejo.")
    by_level = covered(passage, {}, size=vocabulary.VOCABULARY["A2"])
    assert by_level.new_words == ["astrolabio"]
    assert by_level.known == pytest.approx(8 / 9, abs=1e-4)
    assert by_level.basis == "level"
    assert by_level.vocabulary == 2500
    # The learner's own statuses take over, word by word.
    marked = covered(passage, {"casa": "learning", "astrolabio": "known"}, size=2500)
    assert marked.known == pytest.approx(8 / 9, abs=1e-4)
    assert marked.learning == pytest.approx(1 / 9, abs=1e-4)
    assert marked.new_words == []
    # An ignored word is not one to learn: it counts as known.
    assert covered(passage, {"astrolabio": "ignored"}, size=2500).known == 1


def test_a_passage_without_words_has_no_coverage():
    result = covered(words("es", "¡27!"), {})
    assert (result.known, result.learning, result.running_words) == (None, None, 0)


def test_a_passage_is_far_outside_the_band_past_twice_the_levels_budget():
    passage = words(
        "es",
        "El alquimista escudriña un astrolabio herrumbroso y un relicario ornamentado.",
        "Un cartógrafo taciturno anota palimpsestos con cinabrio y bermellón.",
    )
    result = covered(passage, {}, size=vocabulary.VOCABULARY["A2"])
    assert len(result.new_words) == 11
    assert coverage.NEW_WORDS_BUDGET["B1"] * 2 < 11 <= coverage.NEW_WORDS_BUDGET["B2"] * 2
    assert result.new_words_beyond("B1") == result.new_words
    assert result.new_words_beyond("B2") == []
    # Words there on purpose (the theme's, the review words) do not count.
    assert result.new_words_beyond("B1", exclude={"astrolabio"}) == []
