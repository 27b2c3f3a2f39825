"""The annotator's lemmas and POS, offline: what a learner sees when tapping a word."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync

from outbound.spacy.client import SpacyAnnotator
from outbound.spacy.training.treebank import feature


def annotate(annotator: SpacyAnnotator, sentences: list[str], language: str) -> dict[str, tuple]:
    tokens = asyncio.run(annotator.annotate(sentences, language=language))
    return {token.text: (token.lemma, token.pos, token.sentence) for token in tokens}


@pytest.fixture(scope="module")
def lookup() -> SpacyAnnotator:
    return SpacyAnnotator()


def test_spanish_lemmas_including_capitalised_words(lookup):
    tokens = annotate(
        lookup,
        ["Caminas hacia el faro.", "¿Quieres subir?", "Los pescadores se ríen de ti."],
        "es",
    )
    assert tokens["Caminas"][0] == "caminar"  # capitalised at the start of a sentence
    assert tokens["Quieres"][0] == "querer"
    assert tokens["pescadores"][0] == "pescador"
    assert tokens["ríen"][0] == "reír"
    assert tokens["¿"][1] == "PUNCT"
    assert tokens["pescadores"][2] == 2  # the sentence each token belongs to


def test_french_lemmas_including_capitalised_words(lookup):
    tokens = annotate(
        lookup,
        ["Marchant dans la rue, tu trouves des clés anciennes.", "Les pêcheurs rient."],
        "fr",
    )
    # Without a tagger the participle reads as the adjective; never "Marchand"
    # (a capitalised entry) for a word capitalised only by its position.
    assert tokens["Marchant"][0] == "marchant"
    assert tokens["Les"][0] == "le"
    assert tokens["trouves"][0] == "trouver"
    assert tokens["clés"][0] == "clé"
    assert tokens["anciennes"][0] == "ancien"
    assert tokens["rient"][0] == "rire"


@pytest.mark.parametrize(
    ("language", "sentences", "expected"),
    [
        (
            "es",
            ["Caminas por la playa.", "Las olas borran tus huellas."],
            {"Caminas": "caminar", "olas": "ola", "huellas": "huella", "Las": "el"},
        ),
        (
            "fr",
            ["Tu entends des pas.", "Les pêcheurs rient."],
            {"entends": "entendre", "Les": "le", "pêcheurs": "pêcheur"},
        ),
    ],
)
def test_the_annotator_gives_lemmas_also_for_capitalised_words(language, sentences, expected):
    tokens = async_to_sync(SpacyAnnotator().annotate)(sentences, language=language)
    lemmas = {token.text: token.lemma for token in tokens}
    for word, lemma in expected.items():
        assert lemmas[word] == lemma, (word, lemmas[word])
    assert {token.sentence for token in tokens} == {0, 1}
    assert [t.pos for t in tokens if t.text == "."] == ["PUNCT", "PUNCT"]


def test_a_configured_french_model_gives_real_parts_of_speech():
    annotator = SpacyAnnotator({"fr": "fr_core_news_sm"})
    tokens = annotate(
        annotator,
        ["Les pêcheurs trouvent une vieille clé sur la plage.", "Ils sont venus hier."],
        "fr",
    )
    assert tokens["Les"] == ("le", "DET", 0)  # capitalised
    assert tokens["pêcheurs"][:2] == ("pêcheur", "NOUN")
    assert tokens["trouvent"][:2] == ("trouver", "VERB")
    assert tokens["vieille"][:2] == ("vieux", "ADJ")
    assert tokens["sur"][1] == "ADP"
    # French verbs and auxiliaries take the model's lemma (better than simplemma's).
    assert tokens["sont"][:2] == ("être", "AUX")
    # and its morphology, all of its features
    morph = morphology(annotator, "Ils sont venus hier.", "fr")
    assert feature(morph["sont"], "Mood") == "Ind"
    assert feature(morph["sont"], "Person") == "3"


@pytest.mark.parametrize(
    ("language", "sentences", "expected"),
    [
        # Homographs the old lookup table resolved to a verb.
        ("es", ["El pueblo compra sal y la pesada caja."], {"pueblo": "pueblo", "sal": "sal"}),
        ("es", ["El pueblo compra sal y la pesada caja."], {"pesada": "pesado", "caja": "caja"}),
        # Articles to their dictionary form; sentence-initial capitals lower-cased.
        ("es", ["El pueblo compra sal y la pesada caja."], {"El": "el", "la": "el"}),
        ("es", ["Alguien vive en Argentina."], {"Alguien": "alguien", "Argentina": "Argentina"}),
        ("it", ["Il porto della città è grande."], {"Il": "il", "città": "città"}),
        ("pt", ["Uma casa tem sua porta."], {"Uma": "um", "casa": "casa", "sua": "seu"}),
        # German nouns keep their capital; pronouns and articles are their own.
        (
            "de",
            ["Die Frage ist, ob sie eine Antwort hat."],
            {"Die": "der", "Frage": "Frage", "sie": "sie", "eine": "ein", "Antwort": "Antwort"},
        ),
        ("de", ["Häuser stehen in Berlin."], {"Häuser": "Haus", "Berlin": "Berlin"}),
        # German compounds and verbs with a prefix (HanTa), where simplemma
        # keeps "Grundtechniken" and gives "hören" for "gehört".
        (
            "de",
            ["Sie lernen neue Grundtechniken aus Sicherheitsgründen.", "Das Buch gehört ihr."],
            {
                "Grundtechniken": "Grundtechnik",
                "Sicherheitsgründen": "Sicherheitsgrund",
                "gehört": "gehören",
                "Sie": "sie",
            },
        ),
        ("fr", ["Les enfants sont partis."], {"Les": "le", "enfants": "enfant"}),
    ],
)
def test_lemmas_a_learner_would_check(lookup, language, sentences, expected):
    tokens = annotate(lookup, sentences, language)
    assert {text: tokens[text][0] for text in expected} == expected


def test_homographs_are_told_apart_by_the_shipped_tagger(lookup):
    tokens = annotate(lookup, ["El estado de la cuenta preocupa a Ana."], "es")
    assert tokens["estado"][:2] == ("estado", "NOUN")  # not "estar"
    assert tokens["cuenta"][:2] == ("cuenta", "NOUN")  # not "contar"
    assert tokens["Ana"][:2] == ("Ana", "PROPN")
    tokens = annotate(lookup, ["Ha estado en casa."], "es")
    assert tokens["Ha"][0] == "haber"
    assert tokens["estado"][:2] == ("estar", "VERB")


@pytest.mark.parametrize(
    ("language", "sentence", "expected"),
    [
        # The tokeniser leaves contractions whole: each is looked up as such,
        # a preposition, never a content word of its own.
        ("es", "Vuelvo del mercado al puerto con Juan.", {"del": "del", "al": "al"}),
        ("fr", "Il revient du marché aux poissons.", {"du": "du", "aux": "aux"}),
        ("it", "Torno dal mercato nel pomeriggio.", {"dal": "dal", "nel": "nel"}),
        ("pt", "Ele voltou do mercado pelo caminho.", {"do": "do", "pelo": "pelo"}),
        ("de", "Er geht im Park zum Bahnhof.", {"im": "im", "zum": "zum"}),
    ],
)
def test_contractions_are_looked_up_whole(lookup, language, sentence, expected):
    tokens = annotate(lookup, [sentence], language)
    assert {text: tokens[text][:2] for text in expected} == {
        text: (lemma, "ADP") for text, lemma in expected.items()
    }


def test_a_contraction_that_is_also_a_pronoun_is_told_apart(lookup):
    tokens = annotate(lookup, ["Ela mora nos Estados Unidos."], "pt")
    assert tokens["nos"][:2] == ("nos", "ADP")  # em + os
    tokens = annotate(lookup, ["Vou nos ver amanhã."], "pt")
    assert tokens["nos"][1] == "PRON"  # us
    assert tokens["Vou"][0] == "ir"


def test_a_capitalised_first_word_is_no_name_when_it_is_an_ordinary_word(lookup):
    tokens = annotate(lookup, ["Vuelvo del mercado con Juan."], "es")
    assert tokens["Vuelvo"][0] == "volver"
    assert tokens["Juan"][0] == "Juan"  # a name keeps its capital


def test_punctuation_and_numbers_are_their_own_lemma(lookup):
    tokens = annotate(lookup, ["Tengo 25 años, ¿no?"], "es")
    assert tokens["25"][:2] == ("25", "NUM")
    assert tokens["¿"][:2] == ("¿", "PUNCT")
    assert tokens["años"][0] == "año"


def morphology(annotator: SpacyAnnotator, sentence: str, language: str) -> dict[str, str]:
    tokens = asyncio.run(annotator.annotate([sentence], language=language))
    return {token.text: token.morph for token in tokens}


def _missed(reason: str) -> pytest.MarkDecorator:
    """A form the shipped model gets wrong (strict: if it gets it, say so here)."""
    return pytest.mark.xfail(strict=True, reason=reason)


# The Spanish model learns from 1,250 sentences (UD_Spanish-GSD dev) with about
# 100 subjunctives, none in the second person: it finds 15 of the 64 of the
# GSD test split (recall 0.23), 14 of its 20 conditionals. More data (the
# treebank's train split) is the likely cure: a larger hash table got
# "viajaría" and lost "tuviera".
SPANISH_SUBJUNCTIVE = _missed("es: Mood=Sub recall 0.23 on the GSD test split; read as Ind")
SPANISH_CONDITIONAL = _missed("es: read as a noun (-ría: categoría, mayoría); Cnd recall 0.70")
# French: 260 simple pasts in training, mostly "fut", "agit", "furent"; 3rd
# person -a is the present's "a", "va".
PASSE_SIMPLE = _missed("fr: read as the present; finite Past recall 0.80 on GSD test (10)")


@pytest.mark.parametrize(
    ("language", "sentence", "word", "expected"),
    [
        pytest.param(
            "es", "Quiero que vengas.", "vengas", {"Mood": "Sub"}, marks=SPANISH_SUBJUNCTIVE
        ),
        pytest.param(
            "es",
            "Si tuviera dinero, viajaría.",
            "tuviera",
            {"Mood": "Sub"},
            marks=SPANISH_SUBJUNCTIVE,
        ),
        pytest.param(
            "es",
            "Si tuviera dinero, viajaría.",
            "viajaría",
            {"Mood": "Cnd"},
            marks=SPANISH_CONDITIONAL,
        ),
        pytest.param(
            "fr",
            "Il parla longtemps.",
            "parla",
            {"Tense": "Past", "VerbForm": "Fin"},
            marks=PASSE_SIMPLE,
        ),
        ("de", "Wenn ich Zeit hätte, würde ich kommen.", "hätte", {"Mood": "Sub"}),  # Konjunktiv II
        ("it", "Penso che sia vero.", "sia", {"Mood": "Sub"}),
        ("pt", "Espero que você venha.", "venha", {"Mood": "Sub"}),
    ],
)
def test_verbs_carry_their_mood_tense_and_form(lookup, language, sentence, word, expected):
    morph = morphology(lookup, sentence, language)[word]
    assert {name: feature(morph, name) for name in expected} == expected, morph


def test_only_verbs_and_auxiliaries_carry_features(lookup):
    tokens = asyncio.run(lookup.annotate(["Los pescadores han vuelto al puerto."], language="es"))
    morph = {token.text: (token.pos, token.morph) for token in tokens}
    assert morph["han"] == ("AUX", "Mood=Ind|Tense=Pres|VerbForm=Fin")
    assert feature(morph["vuelto"][1], "VerbForm") == "Part"
    for word in ("Los", "pescadores", "al", "puerto", "."):
        assert morph[word][1] == "", word
