from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages

from outbound.errors import ProviderError, is_transient_status
from outbound.roles import StoredFile

T = TypeVar("T")


class DjangoAudioStorage:
    """Audio through the Django storage configured as ``STORAGES["audio"]``.

    Names are derived from entry ids and the audio never changes once written,
    so a retried job overwrites the same object instead of piling up copies.
    Failures of the storage service (S3/MinIO through botocore, Bunny, a full
    disk) come out as ``ProviderError`` with the right ``transient`` flag.
    """

    def __init__(self, storage: Storage | None = None) -> None:
        self._storage = storage or storages["audio"]

    def save(self, name: str, content: bytes, *, content_type: str) -> str:
        def write() -> str:
            if self._storage.exists(name):
                self._storage.delete(name)
            file = ContentFile(content, name=name)
            file.content_type = content_type  # type: ignore[attr-defined]
            return self._storage.save(name, file)

        return _translated(write)

    def url(self, name: str) -> str:
        return self._storage.url(name)

    def read(self, name: str) -> bytes:
        def whole() -> bytes:
            with self._storage.open(name, "rb") as file:
                return file.read()

        return _translated(whole)

    def delete(self, name: str) -> None:
        """Remove ``name`` (none there: nothing to do); with local files, its
        folder too once it is empty, so a deleted story leaves no folder."""

        def remove() -> None:
            self._storage.delete(name)
            if isinstance(self._storage, FileSystemStorage):
                folder = Path(self._storage.path(name)).parent
                root = Path(self._storage.location).resolve()
                while folder.resolve() != root and folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
                    folder = folder.parent

        _translated(remove)

    def listing(self, prefix: str) -> Iterator[StoredFile]:
        """Every file under the folder ``prefix``: a walk of the folder for
        local files, the bucket's listing (1,000 keys a request) for S3, the
        storage's own listing for Bunny."""
        storage = self._storage
        files: Iterator[StoredFile]
        if isinstance(storage, FileSystemStorage):
            files = _local_listing(storage, prefix)
        elif hasattr(storage, "listing"):
            files = storage.listing(prefix)
        elif hasattr(storage, "bucket"):
            files = _s3_listing(storage, prefix)
        else:
            raise NotImplementedError(f"no listing for {type(storage).__name__}")
        # Read as it goes (a bucket lists 1,000 keys a request), each read's
        # failure translated as any other.
        while (file := _translated(lambda: next(files, None))) is not None:
            yield file


def _local_listing(storage: FileSystemStorage, prefix: str) -> Iterator[StoredFile]:
    root = Path(storage.location)
    for folder, _, files in os.walk(root / prefix):
        for file in files:
            path = Path(folder) / file
            try:
                stat = path.stat()
            except FileNotFoundError:  # removed meanwhile
                continue
            yield StoredFile(
                name=path.relative_to(root).as_posix(),
                size=stat.st_size,
                modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
            )


def _s3_listing(storage: Storage, prefix: str) -> Iterator[StoredFile]:
    location = (getattr(storage, "location", "") or "").strip("/")
    key_prefix = posixpath.join(location, prefix) if location else prefix
    for item in storage.bucket.objects.filter(Prefix=key_prefix):  # type: ignore[attr-defined]
        name = item.key[len(location) + 1 :] if location else item.key
        yield StoredFile(name=name, size=item.size, modified=item.last_modified)


def _translated(call: Callable[[], T]) -> T:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        return call()
    except ProviderError:
        raise
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        raise ProviderError(
            str(exc), provider="s3", transient=is_transient_status(status), status=status
        ) from exc
    except NoCredentialsError as exc:
        raise ProviderError(str(exc), provider="s3", transient=False) from exc
    except BotoCoreError as exc:
        # Connection failures, timeouts, unreadable answers.
        raise ProviderError(str(exc), provider="s3", transient=True) from exc
    except OSError as exc:
        raise ProviderError(str(exc), provider="storage", transient=True) from exc
