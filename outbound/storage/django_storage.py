from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages


class DjangoAudioStorage:
    """Audio through the Django storage configured as ``STORAGES["audio"]``.

    Names are derived from entry ids and the audio never changes once written,
    so a retried job overwrites the same object instead of piling up copies.
    """

    def __init__(self, storage: Storage | None = None) -> None:
        self._storage = storage or storages["audio"]

    def save(self, name: str, content: bytes, *, content_type: str) -> str:
        if self._storage.exists(name):
            self._storage.delete(name)
        file = ContentFile(content, name=name)
        file.content_type = content_type  # type: ignore[attr-defined]
        return self._storage.save(name, file)

    def url(self, name: str) -> str:
        return self._storage.url(name)
