"""The roles the outside world plays for us, whoever plays them.

A role is a small interface (a ``Protocol``) and the values that cross it:
the story generator, the digest writer, the translator, the annotator, the
voice and the audio storage. The vendor packages beside this module (``anthropic``, ``deepl``,
``spacy``, ``gemini``, ``storage``) each hold a real client and a stub for one
role; ``outbound.factory`` picks one per role; the pipeline knows only the
roles. Every failure crosses a role as ``outbound.errors.ProviderError``.

The rules a generated passage must keep (``passage_problem``) live here too,
so the generator's own output schema and the pipeline's check are the same
rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

# --- Story generator ------------------------------------------------------------

MIN_CHOICES, MAX_CHOICES = 2, 4


@dataclass(frozen=True)
class PastEntry:
    text: str
    chosen: str | None  # the choice the learner took after it, if any


@dataclass(frozen=True)
class GenerationRequest:
    target_language: str
    level: str  # CEFR, A1..C2
    theme: str
    position: int  # 1-based
    is_final: bool  # this passage must conclude the story, with no choices
    history: list[PastEntry] = field(default_factory=list)
    chosen_index: int | None = None  # index of the choice that led here
    # Lemmas the learner is learning, due for review soonest first: the passage
    # should use them naturally (in whatever form the sentence needs).
    review_words: list[str] = field(default_factory=list)
    # What the passage aims at (``langlearn.difficulty.coverage``): the learner
    # knows about the ``known_words`` most frequent lemmas of the language, and
    # the passage may bring at most ``new_words`` content words beyond them.
    # ``known_words_basis``: what that estimate comes from, "placement" (the
    # learner's check) or "level" (the vocabulary of the level).
    known_words: int | None = None
    known_words_basis: str = "level"
    new_words: int | None = None
    # Words and verb forms of an earlier attempt above the learner's level
    # (``langlearn.difficulty``): when set, the passage is being asked for once
    # more, without them.
    off_level_words: tuple[str, ...] = ()
    off_level_constructions: tuple[str, ...] = ()


@dataclass(frozen=True)
class GeneratedPassage:
    sentences: list[str]
    choices: list[str]
    title: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def passage_problem(sentences: list[str], choices: list[str], *, is_final: bool) -> str | None:
    """What makes a passage unusable for a learner, or None when it is fine.

    At least one non-empty sentence; the final passage offers no choices, any
    other offers ``MIN_CHOICES`` to ``MAX_CHOICES`` non-empty ones.
    """
    if not [sentence for sentence in sentences if sentence.strip()]:
        return "the passage is empty"
    if is_final:
        return "the final passage must not offer choices" if choices else None
    if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        return f"expected {MIN_CHOICES}-{MAX_CHOICES} choices, got {len(choices)}"
    if any(not choice.strip() for choice in choices):
        return "a choice is empty"
    return None


class StoryGenerator(Protocol):
    # Whether asking again with ``off_level_words`` can give a simpler passage
    # (the stub's fixed story cannot, unless its drill says so).
    @property
    def follows_level_hints(self) -> bool: ...

    async def generate(self, request: GenerationRequest) -> GeneratedPassage: ...


# --- Digest writer --------------------------------------------------------------


@dataclass(frozen=True)
class DigestSourceItem:
    """One news item the digest writer may use; ``number`` is how it is cited."""

    number: int  # 1-based, as shown to the writer
    headline: str
    summary: str
    language: str  # the language of its feed


@dataclass(frozen=True)
class DigestRequest:
    target_language: str
    level: str  # CEFR, A1..C2
    date: str  # ISO date of the news
    items: list[DigestSourceItem]


@dataclass(frozen=True)
class WrittenDigest:
    sentences: list[str]
    cited: list[int]  # the numbers of the items the reading used
    title: str = ""
    input_tokens: int = 0
    output_tokens: int = 0


MAX_DIGEST_SENTENCES = 20


def digest_problem(sentences: list[str], cited: list[int], *, items: int) -> str | None:
    """What makes a digest unusable, or None: at least one non-empty sentence
    (at most ``MAX_DIGEST_SENTENCES``), and at least one cited item, each one of
    the ``items`` offered (numbered from 1)."""
    if not [sentence for sentence in sentences if sentence.strip()]:
        return "the reading is empty"
    if len(sentences) > MAX_DIGEST_SENTENCES:
        return f"expected at most {MAX_DIGEST_SENTENCES} sentences, got {len(sentences)}"
    if not cited:
        return "no item cited"
    wrong = [number for number in cited if not 1 <= number <= items]
    if wrong:
        return f"cited items that were not offered: {wrong}"
    return None


class DigestWriter(Protocol):
    """Writes one short graded reading in the target language from news items."""

    async def write_digest(self, request: DigestRequest) -> WrittenDigest: ...


# --- Translator -----------------------------------------------------------------


@dataclass(frozen=True)
class Translation:
    texts: list[str]  # one per input text, in order
    billed_characters: int = 0


class Translator(Protocol):
    """Translates into the languages ``langlearn.languages`` marks
    ``translate_into``; it is never asked which ones while a request is served."""

    async def translate(
        self,
        texts: list[str],
        *,
        source_language: str,
        target_language: str,
        context: str = "",
    ) -> Translation: ...


# --- Annotator ------------------------------------------------------------------


@dataclass(frozen=True)
class AnnotatedToken:
    text: str
    lemma: str
    pos: str  # Universal POS tag, or "" where the pipeline has none
    sentence: int  # index of the sentence it belongs to
    # Universal Dependencies FEATS ("Mood=Sub|Tense=Pres|VerbForm=Fin"), "" where
    # none: the shipped models give Mood, Tense, VerbForm and Voice of verbs and
    # auxiliaries only; a pipeline SPACY_MODELS names gives what it predicts.
    morph: str = ""


class Annotator(Protocol):
    def supports(self, language: str) -> bool: ...

    async def annotate(self, sentences: list[str], *, language: str) -> list[AnnotatedToken]: ...


# --- Voice ----------------------------------------------------------------------


@dataclass(frozen=True)
class Speech:
    audio: bytes
    content_type: str
    duration_ms: int


class Voice(Protocol):
    def supports(self, language: str) -> bool: ...

    async def synthesize(self, text: str, *, language: str) -> Speech: ...


# --- Audio storage --------------------------------------------------------------


@dataclass(frozen=True)
class StoredFile:
    """A file in the audio storage, as its listing gives it."""

    name: str
    size: int
    modified: datetime  # aware, UTC


class AudioStorage(Protocol):
    """Where audio files go: any Django storage (local files, S3/MinIO, Bunny)."""

    def save(self, name: str, content: bytes, *, content_type: str) -> str:
        """Store ``content`` under ``name``; return the name actually used."""
        ...

    def url(self, name: str) -> str: ...

    def read(self, name: str) -> bytes:
        """The content of the file ``name``."""
        ...

    def delete(self, name: str) -> None:
        """Remove the file ``name``; nothing to do when there is none."""
        ...

    def listing(self, prefix: str) -> Iterator[StoredFile]:
        """Every file whose name starts with ``prefix`` (a folder, ending in
        ``/``), with its size and when it was last written."""
        ...
