"""The dictionary form of one word, as the annotator gives it to learners.

``simplemma`` (its dictionaries ship in the wheel; no network, about a
million words a second) does most of the work. It keeps the case a word needs
(``Argentina``, German nouns: ``Frage``, ``Häuser`` -> ``Haus``) and lower-cases
words that are capitalised only because they start a sentence (``El`` ->
``el``). Where a trained spaCy pipeline is configured and is better, its
lemma is taken instead: French verbs and auxiliaries (``fr_core_news_sm``).

Measured with ``python -m bench annotate`` on Universal Dependencies test
splits: see "Lemma accuracy" in the README.
"""

from __future__ import annotations

import simplemma

# Words whose dictionary form is the word itself.
_AS_IS = frozenset({"PUNCT", "SYM", "NUM"})

# Where a trained pipeline's lemma beats simplemma, by part of speech.
MODEL_LEMMAS: dict[str, frozenset[str]] = {"fr": frozenset({"VERB", "AUX"})}

# Languages whose capitals belong to the word (German nouns), not the position.
_CASE_IS_LEXICAL = frozenset({"de"})

# simplemma's answer corrected where the treebanks (and dictionaries) agree it
# is wrong, lower-cased form -> lemma. Tuned on train/dev splits only.
_FIXES: dict[str, dict[str, str]] = {
    # "uma" is the article, not a form of "umar"; possessives go to the masculine.
    "pt": {"uma": "um", "umas": "um", "sua": "seu", "suas": "seu"},
}


def lemma(
    text: str,
    *,
    language: str,
    pos: str = "",
    model_lemma: str = "",
    sentence_start: bool = False,
) -> str:
    """The lemma of ``text`` in ``language``.

    ``pos`` is the Universal POS tag where known ("" without a tagger);
    ``model_lemma`` the lemma a trained pipeline gave ("" without one);
    ``sentence_start``: the first word of its sentence, capitalised for that.
    """
    if pos in _AS_IS or not any(character.isalpha() for character in text):
        return text
    if model_lemma and pos in MODEL_LEMMAS.get(language, ()):
        return model_lemma
    fixed = _FIXES.get(language, {}).get(text.lower())
    if fixed is not None:
        return fixed
    found = str(simplemma.lemmatize(text, lang=language))
    if (
        sentence_start
        and language not in _CASE_IS_LEXICAL
        and found[:1].isupper()
        and found != text
        and simplemma.is_known(text.lower(), lang=language)
    ):
        # A capitalised entry (a surname) shadows the ordinary word that only
        # starts the sentence: "Marchant dans la rue" is "marcher", not "Marchand".
        return str(simplemma.lemmatize(text.lower(), lang=language))
    return found
