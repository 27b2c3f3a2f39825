"""spaCy, offline: a trained model where one is configured and installed
(real POS tags), else a blank pipeline that only tokenises. Lemmas come from
``outbound.spacy.lemmas`` (simplemma, plus the model's lemma where it is better).

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

from . import lemmas


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
                self._pipelines[language] = nlp
            return self._pipelines[language]

    def annotate_sync(self, sentences: list[str], language: str) -> list[AnnotatedToken]:
        nlp = self._usable_pipeline(language)
        return self._tokens(nlp.pipe(sentences), language)

    def annotate_words_sync(
        self, sentences: list[list[str]], language: str
    ) -> list[AnnotatedToken]:
        """The same annotation on a given tokenisation: one list of words per
        sentence (the gold words of a treebank, for ``python -m bench annotate``)."""
        from spacy.tokens import Doc

        nlp = self._usable_pipeline(language)
        docs = (Doc(nlp.vocab, words=words) for words in sentences)
        return self._tokens(nlp.pipe(docs), language)

    def _usable_pipeline(self, language: str) -> Any:
        if not self.supports(language):
            raise ProviderError(
                f"no spaCy pipeline for {language!r}", provider="spacy", transient=False
            )
        return self._pipeline(language)

    def _tokens(self, docs: Iterable[Any], language: str) -> list[AnnotatedToken]:
        tokens: list[AnnotatedToken] = []
        for index, doc in enumerate(docs):
            first_word = True  # each doc is one sentence
            for token in doc:
                if token.is_space:
                    continue
                pos = token.pos_ or _lexical_pos(token)
                sentence_start = first_word and token.is_alpha
                first_word = first_word and not token.is_alpha
                tokens.append(
                    AnnotatedToken(
                        text=token.text,
                        lemma=lemmas.lemma(
                            token.text,
                            language=language,
                            pos=pos,
                            model_lemma=token.lemma_,
                            sentence_start=sentence_start,
                        ),
                        pos=pos,
                        sentence=index,
                    )
                )
        return tokens

    async def annotate(self, sentences: list[str], *, language: str) -> list[AnnotatedToken]:
        return await asyncio.to_thread(self.annotate_sync, sentences, language)


def _lexical_pos(token: Any) -> str:
    """What can be told without a tagger: punctuation and numbers."""
    if token.is_punct:
        return "PUNCT"
    if token.like_num:
        return "NUM"
    return ""
