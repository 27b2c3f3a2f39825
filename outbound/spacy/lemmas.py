"""The dictionary form of one word, as the annotator gives it to learners.

Where the word and its part of speech (from the language's shipped tagger,
``outbound/spacy/models/``) are in the language's ``lemmas.json`` (what the
Universal Dependencies train/dev treebanks say where simplemma would say
otherwise; ``python -m outbound.spacy.training``), that lemma is taken: it
tells ``estado`` the noun from ``estado`` of ``estar``. Proper nouns keep their
form. Otherwise ``simplemma`` (its dictionaries ship in the wheel; no network,
about a million words a second) does the work, with its ``low_memory``
dictionaries: the same answers, read from the compressed form on demand, about
10 MB a language rather than 90-135 MB (a worker loads five). It keeps the case a word needs
(``Argentina``, German nouns: ``Frage``, ``Häuser`` -> ``Haus``) and lower-cases
words that are capitalised only because they start a sentence (``El`` ->
``el``). Where a trained spaCy pipeline is configured and is better, its
lemma is taken instead: French verbs and auxiliaries (``fr_core_news_sm``).

Measured with ``python -m bench annotate`` on Universal Dependencies test
splits: see "Lemma accuracy" in docs/language-data.md.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path

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


@dataclass(frozen=True)
class Table:
    """A language's ``lemmas.json``: lemma by lower-cased word and POS, and the
    contractions the tokeniser leaves whole (lower-cased form -> lemma, POS)."""

    lemmas: dict[str, str] = field(default_factory=dict)
    contractions: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Table:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            lemmas=dict(data["lemmas"]),
            contractions={
                form: (entry, pos) for form, (entry, pos) in data["contractions"].items()
            },
        )

    def get(self, text: str, pos: str) -> str | None:
        return self.lemmas.get(f"{text.lower()}\t{pos}")


EMPTY = Table()


def warm(language: str) -> None:
    """Load simplemma's dictionary for ``language`` now (once per process)."""
    with contextlib.suppress(ValueError):  # no dictionary for that language
        simplemma.is_known("a", lang=language, low_memory=True)


def lemma(
    text: str,
    *,
    language: str,
    pos: str = "",
    model_lemma: str = "",
    sentence_start: bool = False,
    table: Table = EMPTY,
) -> str:
    """The lemma of ``text`` in ``language``.

    ``pos`` is the Universal POS tag where known ("" without a tagger);
    ``model_lemma`` the lemma a trained pipeline gave ("" without one);
    ``sentence_start``: the first word of its sentence, capitalised for that;
    ``table``: the language's lemma table (none: simplemma alone).
    """
    if pos in _AS_IS or not any(character.isalpha() for character in text):
        return text
    known = table.get(text, pos) if pos else None
    if pos == "PROPN" and table is not EMPTY and not text.islower():
        # A name is its own lemma, as written ("Juan", not the table's "juan");
        # but a capitalised first word the tagger took for one is not a name
        # when it is an ordinary word ("Vuelvo del mercado").
        if not (
            sentence_start and simplemma.is_known(text.lower(), lang=language, low_memory=True)
        ):
            return text if known is None or known.lower() == text.lower() else known
    elif known is not None:
        return known
    if model_lemma and pos in MODEL_LEMMAS.get(language, ()):
        return model_lemma
    fixed = _FIXES.get(language, {}).get(text.lower())
    if fixed is not None:
        return fixed
    found = str(simplemma.lemmatize(text, lang=language, low_memory=True))
    if (
        sentence_start
        and language not in _CASE_IS_LEXICAL
        and found[:1].isupper()
        and found != text
        and simplemma.is_known(text.lower(), lang=language, low_memory=True)
    ):
        # A capitalised entry (a surname) shadows the ordinary word that only
        # starts the sentence: "Marchant dans la rue" is "marcher", not "Marchand".
        return str(simplemma.lemmatize(text.lower(), lang=language, low_memory=True))
    if language not in _CASE_IS_LEXICAL and text.islower() and not found.islower():
        return found.lower()  # a word written in lower case has no capital lemma
    if (
        table is not EMPTY
        and found[:1].isupper()
        and pos not in _CAPITALISED.get(language, ("PROPN",))
    ):
        # The tagger says it is no name (nor a German noun): a capital from a
        # title or the sentence start ("Paesi", "Belle") is not the lemma's.
        return str(simplemma.lemmatize(text.lower(), lang=language, low_memory=True)).lower()
    return found


# Parts of speech whose lemma keeps its capital.
_CAPITALISED = {"de": ("PROPN", "NOUN")}
