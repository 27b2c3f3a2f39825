"""The difficulty estimate (langlearn/difficulty): what a learner would notice
of it, on the annotator's real tokens."""

from __future__ import annotations

import pytest

from langlearn import difficulty, levels
from outbound.spacy.client import SpacyAnnotator
from outbound.stubs import corpus

ANNOTATOR = SpacyAnnotator()


def words(language: str, *sentences: str) -> list[levels.Word]:
    tokens = ANNOTATOR.annotate_sync(list(sentences), language)
    return [levels.Word(t.text, t.lemma, t.pos, t.sentence, t.morph) for t in tokens]


def estimate(language: str, *sentences: str, exclude: tuple[str, ...] = ()):
    return difficulty.estimate(words(language, *sentences), language=language, exclude=exclude)


def stub_passage(language: str) -> list[str]:
    column = corpus.LANGUAGES.index(language)
    return [row[column] for row in corpus.scene_for(1, is_final=False).sentences]


@pytest.mark.parametrize(
    ("language", "present", "subjunctive"),
    [
        (
            "es",
            ["Quiero ver el mar.", "Mi hermana viene conmigo.", "Ella tiene tiempo."],
            ["Quiero que veas el mar.", "Ojalá mi hermana venga conmigo.", "Ojalá tenga tiempo."],
        ),
        (
            "fr",
            ["Je veux voir la mer.", "Ma sœur vient avec moi.", "Elle a le temps."],
            [
                "Je veux que tu voies la mer.",
                "Il faut que ma sœur vienne avec moi.",
                "Je doute qu'elle ait le temps.",
            ],
        ),
        (
            "it",
            ["Voglio vedere il mare.", "Mia sorella viene con me.", "Lei ha tempo."],
            [
                "Voglio che tu veda il mare.",
                "Spero che mia sorella venga con me.",
                "Penso che abbia tempo.",
            ],
        ),
    ],
)
def test_a_passage_in_the_subjunctive_scores_above_the_same_passage_in_the_present(
    language, present, subjunctive
):
    plain, harder = estimate(language, *present), estimate(language, *subjunctive)
    assert harder.value > plain.value
    names = {c["name"] for c in harder.constructions_above("A2")}
    assert any("subjunctive" in name for name in names), harder.constructions_above("A2")
    assert plain.constructions_above("A2") == []


def test_konjunktiv_ii_and_the_passe_simple_are_not_a2():
    german = estimate("de", "Wenn ich Zeit hätte, würde ich dich besuchen.")
    assert "Konjunktiv II" in {c["name"] for c in german.constructions_above("A2")}
    french = estimate("fr", "Il ouvrit la porte et sortit dans la nuit.")
    assert "passé simple" in {c["name"] for c in french.constructions_above("A2")}
    # "möchte" is how A1 learners ask for things: not held against A1.
    polite = estimate("de", "Ich möchte einen Kaffee.")
    assert polite.constructions_above("A1") == []


def test_german_indicatives_the_tagger_takes_for_subjunctives_are_not_held_against_a2():
    """The tagger gives some indicatives ("ich habe", "heißen") the
    subjunctive mood: an A2 learner's "ich habe" is no Konjunktiv, a report's
    "er sei" is."""
    plain = estimate("de", "Ich habe Hunger und ich habe Durst.", "Darum heißen wir Kinder.")
    assert not {c["name"] for c in plain.constructions_above("A2")} & {
        "Konjunktiv I",
        "Konjunktiv II",
    }
    reported = estimate("de", "Er sagt, er sei krank.")
    assert "Konjunktiv I" in {c["name"] for c in reported.constructions_above("A2")}


def test_names_do_not_count_as_rare_words_in_german():
    """German capitalises every noun, so capitals cannot tell a name; the
    characters' names must still not count as vocabulary."""
    named = estimate(
        "de",
        "Kofi und Amara gehen in den Wald.",
        "Amara sieht einen Hund.",
        "Kofi lacht und ruft Wiebke.",
    )
    assert not {"kofi", "amara", "wiebke"} & {w.lower() for w in named.words_above("A1")}
    assert not {"kofi", "amara", "wiebke"} & {w.lemma.lower() for w in named.words}
    plain = estimate(
        "de", "Er und sie gehen in den Wald.", "Sie sieht einen Hund.", "Er lacht und ruft sie."
    )
    assert named.value == pytest.approx(plain.value, abs=0.3)


def test_names_numbers_and_the_callers_own_words_are_not_vocabulary():
    passage = ["El pescador Anselmo ve 27 astrolabios en la playa.", "Anselmo está contento."]
    measured = estimate("es", *passage)
    counted = {w.lemma.lower() for w in measured.words}
    assert "anselmo" not in counted  # a name, capitalised mid-sentence
    assert "astrolabio" in measured.words_above("A2")
    own = estimate("es", *passage, exclude=("astrolabio",))
    assert "astrolabio" not in own.words_above("A2")
    assert own.value <= measured.value


def test_rare_words_raise_the_estimate_and_are_named():
    plain = estimate("es", *stub_passage("es"))
    rare = estimate("es", *stub_passage("es"), *(row[1] for row in corpus.OFF_LEVEL))
    assert rare.value > plain.value
    assert {"astrolabio", "palimpsesto"} <= set(rare.words_above("A2"))
    assert rare.too_hard_for("A2")


@pytest.mark.parametrize("language", corpus.LANGUAGES[1:])
def test_the_stubs_plain_story_is_not_too_hard_for_a2(language):
    """The stub's story is plainly A2 (present and past tenses, everyday
    words): the estimate must not tell a learner it is off level."""
    measured = estimate(language, *stub_passage(language))
    assert not measured.too_hard_for("A2"), (measured.value, measured.reasons("A2"))


def test_long_sentences_with_subordinate_clauses_score_above_short_ones():
    short = estimate("es", "Voy a casa.", "Como pan.", "Mi perro duerme.", "Hace sol.")
    long = estimate(
        "es",
        "Cuando llego a casa después del trabajo, como el pan que compré por la mañana "
        "mientras mi perro, que está muy cansado porque corrió todo el día, duerme.",
    )
    assert long.value > short.value
    assert long.sentence_length > short.sentence_length
    assert long.subordinate_clauses > 0


def test_the_estimate_stays_on_the_scale_and_names_its_level():
    for text in (["Sí."], ["Hola, Ana."], stub_passage("es")):
        measured = estimate("es", *text)
        assert 1.0 <= measured.value <= 6.0
        assert measured.level in levels.LEVELS
    assert difficulty.level_name(1.0) == "A1"
    assert difficulty.level_name(2.4) == "A2"
    assert difficulty.level_name(6.0) == "C2"


def test_a_german_compound_ranks_as_its_rarest_part():
    from langlearn.difficulty import vocabulary

    assert vocabulary.rank("Krankenhaus", "de") <= vocabulary.rank("krank", "de")
    whole = vocabulary.rank("Hundehütte", "de")
    assert whole == max(vocabulary.rank("Hund", "de"), vocabulary.rank("Hütte", "de"))
    # A rare word that is no compound of known words keeps its own rank.
    assert vocabulary.rank("Astrolabium", "de") > vocabulary.VOCABULARY["C2"]


def test_spanish_subjunctives_the_tagger_misses_are_known_by_their_form():
    measured = estimate("es", "Quiero que vengas.", "Si tuviera dinero, viajaría.")
    found = {c["name"]: c["words"] for c in measured.constructions_above("A2")}
    assert found["present subjunctive"] == ["vengas"]
    assert found["imperfect subjunctive"] == ["tuviera"]


def test_relative_clauses_count_as_subordinate_clauses():
    from langlearn.difficulty import grammar

    relative = words("es", "El hombre, que vive aquí, está cansado.")
    plain = words("es", "El hombre vive aquí. Está cansado.")
    assert grammar.subordinate_clauses(relative, "es") == 1
    assert grammar.subordinate_clauses(plain, "es") == 0
    german = words("de", "Der Mann, der dort steht, ist müde.")
    assert grammar.subordinate_clauses(german, "de") == 1
