"""The voice's interface."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Speech:
    audio: bytes
    content_type: str
    duration_ms: int


class Voice(Protocol):
    def supports(self, language: str) -> bool: ...

    async def synthesize(self, text: str, *, language: str) -> Speech: ...
