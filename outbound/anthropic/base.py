"""The story generator's interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


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


class StoryGenerator(Protocol):
    async def generate(self, request: GenerationRequest) -> GeneratedPassage: ...
