"""The translator's interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Language:
    code: str  # ISO 639-1, lower case: what our API speaks
    name: str


@dataclass(frozen=True)
class Translation:
    texts: list[str]  # one per input text, in order
    billed_characters: int = 0


class Translator(Protocol):
    def target_languages(self) -> list[Language]:
        """Languages this translator can translate into (may be cached)."""
        ...

    def can_translate_to(self, code: str) -> bool: ...

    async def translate(
        self,
        texts: list[str],
        *,
        source_language: str,
        target_language: str,
        context: str = "",
    ) -> Translation: ...
