"""spaCy lemmas and POS for Spanish and French passages, offline."""

from __future__ import annotations

import asyncio

import pytest

from outbound.spacy.client import SpacyAnnotator


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
    assert tokens["Caminas"][0] == "caminar"  # capitalised: looked up lower-cased
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
    # The French table holds lists for some words: the first is taken.
    assert tokens["Marchant"][0] == "marcher"
    assert tokens["Les"][0] == "le"
    assert tokens["trouves"][0] == "trouver"
    assert tokens["clés"][0] == "clé"
    assert tokens["anciennes"][0] == "ancien"
    assert tokens["rient"][0] == "rire"


def test_a_configured_french_model_gives_real_parts_of_speech():
    annotator = SpacyAnnotator({"fr": "fr_core_news_sm"})
    tokens = annotate(annotator, ["Les pêcheurs trouvent une vieille clé sur la plage."], "fr")
    assert tokens["Les"] == ("le", "DET", 0)  # capitalised
    assert tokens["pêcheurs"][:2] == ("pêcheur", "NOUN")
    assert tokens["trouvent"][:2] == ("trouver", "VERB")
    assert tokens["vieille"][:2] == ("vieux", "ADJ")
    assert tokens["sur"][1] == "ADP"
