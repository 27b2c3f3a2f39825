from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages

from outbound.errors import ProviderError, is_transient_status

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
