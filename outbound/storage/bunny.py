"""Audio on Bunny Storage, served through a Bunny pull zone (CDN).

Why the native HTTP API and not Bunny's S3-compatible endpoint: Bunny calls
the HTTP API the recommended way to upload; S3 compatibility is a preview
that must be switched on when a storage zone is created (it cannot be added
to an existing zone) and exists in a few regions only. The native API is three
plain requests (PUT/GET/DELETE ``{endpoint}/{zone}/{path}`` with an
``AccessKey`` header; a GET of ``{path}/`` lists a folder), so this backend
is small enough to own: every request has a timeout, every HTTP error
raises, and uploads carry a SHA-256 ``Checksum`` that Bunny verifies. (The
backends on the registry ignore HTTP errors and have no timeouts.)

Files are served from the pull zone (``BUNNY_PULL_ZONE_URL``), signed with
Bunny's token authentication (HS256) when ``BUNNY_TOKEN_KEY`` is set. Bunny
Storage keeps no per-file Cache-Control: audio never changes once written, so
configure the pull zone to cache it for a year (Caching > "Cache expiration
time" and "Browser cache expiration" = 1 year); signed URLs stay cacheable
because the token is checked at the edge.

Errors are translated here into ``ProviderError``: 429, 5xx, timeouts and
connection failures are transient; 401/403/4xx permanent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import posixpath
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible

from outbound.errors import ProviderError, is_transient_status
from outbound.roles import StoredFile

PROVIDER = "bunny"


def bunny_token(path: str, expires: int, key: str, signing_data: str = "") -> str:
    """Bunny's token: ``HS256-`` + base64url(HMAC-SHA256(key, path+expires+data)), no padding."""
    message = f"{path}{expires}{signing_data}".encode()
    digest = hmac.new(key.encode(), message, hashlib.sha256).digest()
    return "HS256-" + base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def storage_endpoint(region: str) -> str:
    """The storage API host of a zone's primary region (Frankfurt has no prefix)."""
    region = region.strip().lower()
    if region in {"", "de", "falkenstein"}:
        return "https://storage.bunnycdn.com"
    return f"https://{region}.storage.bunnycdn.com"


@deconstructible
class BunnyStorage(Storage):
    def __init__(
        self,
        *,
        storage_zone: str,
        api_key: str,
        pull_zone_url: str,
        region: str = "",
        endpoint: str = "",
        token_key: str = "",
        token_ttl: int = 24 * 3600,
        timeout: float = 30.0,
    ) -> None:
        if not storage_zone or not api_key or not pull_zone_url:
            raise ValueError(
                "Bunny storage needs BUNNY_STORAGE_ZONE, BUNNY_STORAGE_API_KEY "
                "and BUNNY_PULL_ZONE_URL"
            )
        self.storage_zone = storage_zone
        self.endpoint = (endpoint or storage_endpoint(region)).rstrip("/")
        self.pull_zone_url = pull_zone_url.rstrip("/")
        self.token_key = token_key
        self.token_ttl = token_ttl
        self.timeout = timeout
        self._api_key = api_key
        self._session = requests.Session()

    # --- HTTP -------------------------------------------------------------------

    def _object_url(self, name: str) -> str:
        return f"{self.endpoint}/{self.storage_zone}/{quote(name.lstrip('/'))}"

    def _request(self, method: str, name: str, **kwargs: Any) -> requests.Response:
        headers = {"AccessKey": self._api_key, **kwargs.pop("headers", {})}
        try:
            response = self._session.request(
                method, self._object_url(name), headers=headers, timeout=self.timeout, **kwargs
            )
        except requests.Timeout as exc:
            raise ProviderError(
                f"{method} {name}: timed out", provider=PROVIDER, transient=True
            ) from exc
        except requests.RequestException as exc:
            raise ProviderError(
                f"{method} {name}: {exc}", provider=PROVIDER, transient=True
            ) from exc
        return response

    def _raise_for(self, response: requests.Response, method: str, name: str) -> None:
        if response.status_code >= 400:
            raise ProviderError(
                f"{method} {name}: {response.text[:200]}",
                provider=PROVIDER,
                transient=is_transient_status(response.status_code),
                status=response.status_code,
            )

    # --- Django Storage API ----------------------------------------------------

    def _save(self, name: str, content: File) -> str:
        content.seek(0)
        body = content.read()
        if isinstance(body, str):
            body = body.encode()
        headers = {
            "Content-Type": getattr(content, "content_type", None) or "application/octet-stream",
            "Checksum": hashlib.sha256(body).hexdigest().upper(),
        }
        response = self._request("PUT", name, data=body, headers=headers)
        self._raise_for(response, "PUT", name)
        return name

    def _open(self, name: str, mode: str = "rb") -> File:
        response = self._request("GET", name)
        self._raise_for(response, "GET", name)
        return ContentFile(response.content, name=name)

    def delete(self, name: str) -> None:
        response = self._request("DELETE", name)
        if response.status_code != 404:
            self._raise_for(response, "DELETE", name)

    def exists(self, name: str) -> bool:
        response = self._request("GET", name, stream=True)
        with response:
            if response.status_code == 404:
                return False
            self._raise_for(response, "GET", name)
            return True

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        # Audio names derive from entry ids: a PUT replaces the object in place.
        return name

    def size(self, name: str) -> int:
        return len(self._open(name).read())

    def url(self, name: str | None) -> str:
        url = f"{self.pull_zone_url}/{quote((name or '').lstrip('/'))}"
        if not self.token_key:
            return url
        # The token signs the URL's whole path, as the edge sees it.
        expires = int(time.time()) + self.token_ttl
        token = bunny_token(urlsplit(url).path, expires, self.token_key)
        return f"{url}?token={token}&expires={expires}"

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        folders: list[str] = []
        files: list[str] = []
        for item in self._folder(path):
            (folders if item.get("IsDirectory") else files).append(item["ObjectName"])
        return folders, files

    def listing(self, prefix: str) -> Iterator[StoredFile]:
        """Every file under the folder ``prefix``, walking its subfolders (the
        storage API lists one folder a request)."""
        for item in self._folder(prefix):
            name = posixpath.join(prefix, item["ObjectName"])
            if item.get("IsDirectory"):
                yield from self.listing(name + "/")
            else:
                changed = datetime.fromisoformat(item["LastChanged"])
                yield StoredFile(
                    name=name,
                    size=int(item.get("Length") or 0),
                    modified=changed if changed.tzinfo else changed.replace(tzinfo=UTC),
                )

    def _folder(self, path: str) -> list[dict]:
        folder = path.strip("/")
        response = self._request("GET", f"{folder}/" if folder else "")
        if response.status_code == 404:
            return []
        self._raise_for(response, "GET", path)
        return response.json()
