"""Where audio files go: any Django storage (local files, S3/MinIO, Bunny)."""

from __future__ import annotations

from typing import Protocol


class AudioStorage(Protocol):
    def save(self, name: str, content: bytes, *, content_type: str) -> str:
        """Store ``content`` under ``name``; return the name actually used."""
        ...

    def url(self, name: str) -> str: ...
