"""The annotator's interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AnnotatedToken:
    text: str
    lemma: str
    pos: str  # Universal POS tag, or "" where the pipeline has none
    sentence: int  # index of the sentence it belongs to


class Annotator(Protocol):
    def supports(self, language: str) -> bool: ...

    async def annotate(self, sentences: list[str], *, language: str) -> list[AnnotatedToken]: ...
