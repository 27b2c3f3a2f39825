"""spaCy, offline: a trained model where one is installed, else a blank
pipeline with the lookup lemmatizer from ``spacy-lookups-data``.

It is the real annotator and also what runs "stubbed": it needs no network and
no key. Pipelines load lazily, once per process (1-5 s), then annotate a
passage in about a millisecond.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from collections.abc import Iterable
from typing import Any

from langlearn import languages
from outbound.errors import ProviderError
from outbound.roles import AnnotatedToken


class SpacyAnnotator:
    def __init__(self, models: dict[str, str] | None = None) -> None:
        self._models = models or {}
        self._pipelines: dict[str, Any] = {}
        self._lock = threading.Lock()

    def supports(self, language: str) -> bool:
        return language in languages.lemmatized() or self._model_installed(language)

    def _model_installed(self, language: str) -> bool:
        model = self._models.get(language)
        return model is not None and importlib.util.find_spec(model) is not None

    def _pipeline(self, language: str) -> Any:
        with self._lock:
            if language not in self._pipelines:
                import spacy

                if self._model_installed(language):
                    nlp = spacy.load(self._models[language])
                else:
                    nlp = spacy.blank(language)
                    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
                    nlp.initialize()
                self._pipelines[language] = nlp
            return self._pipelines[language]

    def annotate_sync(self, sentences: list[str], language: str) -> list[AnnotatedToken]:
        nlp = self._usable_pipeline(language)
        return self._tokens(nlp.pipe(sentences), nlp)

    def annotate_words_sync(
        self, sentences: list[list[str]], language: str
    ) -> list[AnnotatedToken]:
        """The same annotation on a given tokenisation: one list of words per
        sentence (the gold words of a treebank, for ``python -m bench annotate``)."""
        from spacy.tokens import Doc

        nlp = self._usable_pipeline(language)
        docs = (Doc(nlp.vocab, words=words) for words in sentences)
        return self._tokens(nlp.pipe(docs), nlp)

    def _usable_pipeline(self, language: str) -> Any:
        if not self.supports(language):
            raise ProviderError(
                f"no spaCy pipeline for {language!r}", provider="spacy", transient=False
            )
        return self._pipeline(language)

    def _tokens(self, docs: Iterable[Any], nlp: Any) -> list[AnnotatedToken]:
        table = None
        if "lemmatizer" in nlp.pipe_names:
            lookups = nlp.get_pipe("lemmatizer").lookups
            if lookups.has_table("lemma_lookup"):
                table = lookups.get_table("lemma_lookup")
        tokens: list[AnnotatedToken] = []
        for index, doc in enumerate(docs):
            for token in doc:
                if token.is_space:
                    continue
                lemma = token.lemma_ or token.text
                # The lookup table is case-sensitive: "Caminas" is not in it,
                # "caminas" is. Fall back to the lower-cased form.
                if table is not None and lemma == token.text and not token.is_lower:
                    lemma = _first(table.get(token.lower_, lemma))
                tokens.append(
                    AnnotatedToken(
                        text=token.text,
                        lemma=lemma,
                        pos=token.pos_ or _lexical_pos(token),
                        sentence=index,
                    )
                )
        return tokens

    async def annotate(self, sentences: list[str], *, language: str) -> list[AnnotatedToken]:
        return await asyncio.to_thread(self.annotate_sync, sentences, language)


def _first(value: str | list[str]) -> str:
    # Some tables (French) hold several candidate lemmas for one form.
    return value[0] if isinstance(value, list) and value else str(value)


def _lexical_pos(token: Any) -> str:
    """What can be told without a tagger: punctuation and numbers."""
    if token.is_punct:
        return "PUNCT"
    if token.like_num:
        return "NUM"
    return ""
