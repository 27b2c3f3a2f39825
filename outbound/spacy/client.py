"""spaCy, offline: the language's tagger shipped in ``models/LANG/`` (trained
from Universal Dependencies train/dev data by ``python -m
outbound.spacy.training``), or a trained pipeline ``SPACY_MODELS`` names
instead, else a blank pipeline that only tokenises. The tagger gives each word
its POS and its morphology (``AnnotatedToken.morph``, the UD FEATS: the
shipped models' mood, tense, verb form and voice of verbs and auxiliaries).
Lemmas come from ``outbound.spacy.lemmas``: the shipped lemma table by word and
POS, then simplemma. Contractions the tokeniser leaves whole (``del``, ``du``,
``della``, ``do``, ``im``) are looked up as such; a verb with its clitics
(``dárselo``) gets the verb's lemma. German content words take HanTa's lemma
(``outbound.spacy.german``).

It is the real annotator and also what runs "stubbed": it needs no network and
no key. Pipelines load once per process (1-5 s), however many annotators
ask for them: on first use, or before (``warm``, the worker's warm-up); then
they annotate a passage in about a millisecond.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from langlearn import languages
from outbound.errors import ProviderError
from outbound.roles import AnnotatedToken

from . import german, lemmas

SHIPPED = Path(__file__).resolve().parent / "models"

# Loaded pipelines and lemma tables, shared by every annotator of the process
# (once loaded they are only read), by language, configured model (when it is
# installed) and shipped folder. A lock per key, so that concurrent first
# passages of a language load it once, and a language loading (the worker's
# warm-up) holds up no other language.
_Key = tuple[str, str | None, Path]
_loaded: dict[_Key, tuple[Any, lemmas.Table]] = {}
_locks: dict[_Key, threading.Lock] = {}
_locks_lock = threading.Lock()


def _loading(key: _Key) -> threading.Lock:
    with _locks_lock:
        return _locks.setdefault(key, threading.Lock())


class SpacyAnnotator:
    def __init__(self, models: dict[str, str] | None = None, shipped: Path = SHIPPED) -> None:
        self._models = models or {}
        self._shipped = shipped

    def supports(self, language: str) -> bool:
        return language in languages.lemmatized() or self._model_installed(language)

    def _model_installed(self, language: str) -> bool:
        model = self._models.get(language)
        return model is not None and importlib.util.find_spec(model) is not None

    def _pipeline(self, language: str) -> tuple[Any, lemmas.Table]:
        model = self._models[language] if self._model_installed(language) else None
        shipped = self._shipped / language
        key = (language, model, shipped)
        with _loading(key):
            if key not in _loaded:
                _loaded[key] = _load(language, model, shipped)
            return _loaded[key]

    def warm(self, language: str) -> None:
        """Load what annotating ``language`` needs now (its pipeline, lemma
        table and dictionaries; HanTa for German), not in its first passage."""
        if not self.supports(language):
            return
        self._pipeline(language)
        if language == "de":
            german.warm()

    def annotate_sync(self, sentences: list[str], language: str) -> list[AnnotatedToken]:
        nlp, table = self._usable_pipeline(language)
        return self._tokens(nlp.pipe(sentences), language, table, whole_tokens=True)

    def annotate_words_sync(
        self, sentences: list[list[str]], language: str
    ) -> list[AnnotatedToken]:
        """The same annotation on a given tokenisation: one list of words per
        sentence (the gold words of a treebank, for ``python -m bench annotate``)."""
        from spacy.tokens import Doc

        nlp, table = self._usable_pipeline(language)
        docs = (Doc(nlp.vocab, words=words) for words in sentences)
        return self._tokens(nlp.pipe(docs), language, table, whole_tokens=False)

    def _usable_pipeline(self, language: str) -> tuple[Any, lemmas.Table]:
        if not self.supports(language):
            raise ProviderError(
                f"no spaCy pipeline for {language!r}", provider="spacy", transient=False
            )
        return self._pipeline(language)

    def _tokens(
        self, docs: Iterable[Any], language: str, table: lemmas.Table, *, whole_tokens: bool
    ) -> list[AnnotatedToken]:
        """``whole_tokens``: the tokeniser's tokens, where a contraction is one
        token (given words, as a treebank's, are already split)."""
        tokens: list[AnnotatedToken] = []
        for index, doc in enumerate(docs):
            first_word = True  # each doc is one sentence
            hanta = german.analyse([token.text for token in doc]) if language == "de" else []
            for token in doc:
                if token.is_space:
                    continue
                pos = token.pos_ or _lexical_pos(token)
                if hanta and hanta[token.i][1] == "NE" and pos in german.NAME_FROM:
                    pos = "PROPN"
                morph = str(token.morph)
                sentence_start = first_word and token.is_alpha
                first_word = first_word and not token.is_alpha
                contraction = table.contractions.get(token.text.lower()) if whole_tokens else None
                if contraction is not None and contraction[1] == "ADP" and pos in _NOT_ADP:
                    contraction = None  # the pronoun or article it also is: "vou nos ver"
                if contraction is not None:
                    if contraction[1] != pos:
                        morph = ""  # the features of another reading of it
                    lemma, pos = contraction
                else:
                    lemma = lemmas.lemma(
                        token.text,
                        language=language,
                        pos=pos,
                        model_lemma=token.lemma_,
                        sentence_start=sentence_start,
                        table=table,
                    )
                    if hanta and pos not in german.OWN and any(c.isalpha() for c in token.text):
                        lemma = hanta[token.i][0]
                tokens.append(
                    AnnotatedToken(
                        text=token.text, lemma=lemma, pos=pos, sentence=index, morph=morph
                    )
                )
        return tokens

    async def annotate(self, sentences: list[str], *, language: str) -> list[AnnotatedToken]:
        return await asyncio.to_thread(self.annotate_sync, sentences, language)


def _load(language: str, model: str | None, shipped: Path) -> tuple[Any, lemmas.Table]:
    import spacy

    if model is not None:
        nlp = spacy.load(model)
    elif (shipped / "config.cfg").is_file():
        nlp = spacy.load(shipped)
    else:
        nlp = spacy.blank(language)
    table_file = shipped / "lemmas.json"
    table = lemmas.Table.load(table_file) if table_file.is_file() else lemmas.EMPTY
    # simplemma's dictionary too, under the lock: the worker's concurrent
    # first passages of a language would each decode it (0.7 s of CPU each)
    # in the first lemma they ask for.
    lemmas.warm(language)
    return nlp, table


# What the tagger may call a word that is also a contraction of a preposition.
_NOT_ADP = frozenset({"PRON", "DET"})


def _lexical_pos(token: Any) -> str:
    """What can be told without a tagger: punctuation and numbers."""
    if token.is_punct:
        return "PUNCT"
    if token.like_num:
        return "NUM"
    return ""
