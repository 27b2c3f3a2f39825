"""Fakes of Bunny Storage's HTTP API and of a pull zone serving its files.

The storage API checks the ``AccessKey`` and the upload ``Checksum``; the pull
zone checks the HS256 token when a token key is configured, like the edge.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from urllib.parse import unquote

from outbound.storage.bunny import bunny_token

from .server import FakeServer, Reply, Request, json_reply

ZONE = "langlearn-audio"
ACCESS_KEY = "bunny-storage-password"
TOKEN_KEY = "bunny-token-key"


class FakeBunny:
    def __init__(self, token_key: str = TOKEN_KEY) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        # When each file was last written (Bunny's ``LastChanged``).
        self.changed: dict[str, datetime] = {}
        self.token_key = token_key
        self.storage = FakeServer(self._storage)
        self.pull_zone = FakeServer(self._pull_zone)

    def _storage(self, request: Request) -> Reply:
        if request.headers.get("accesskey") != ACCESS_KEY:
            return json_reply({"HttpCode": 401, "Message": "Unauthorized"}, 401)
        zone, _, name = unquote(request.path).lstrip("/").partition("/")
        if zone != ZONE:
            return json_reply({"HttpCode": 404, "Message": "Storage zone not found"}, 404)
        if request.method == "PUT":
            checksum = request.headers.get("checksum")
            if checksum and checksum != hashlib.sha256(request.body).hexdigest().upper():
                return json_reply({"HttpCode": 400, "Message": "Checksum mismatch"}, 400)
            content_type = request.headers.get("content-type", "application/octet-stream")
            self.files[name] = (request.body, content_type)
            self.changed[name] = datetime.now(UTC)
            return json_reply({"HttpCode": 201, "Message": "File uploaded."}, 201)
        if request.method == "GET" and (name == "" or name.endswith("/")):
            return json_reply(self._folder(name))
        if name not in self.files:
            return json_reply({"HttpCode": 404, "Message": "Object Not Found"}, 404)
        if request.method == "DELETE":
            del self.files[name]
            return json_reply({"HttpCode": 200, "Message": "File deleted successfuly."})
        body, content_type = self.files[name]
        return Reply(body=body, headers={"Content-Type": content_type})

    def _folder(self, folder: str) -> list[dict]:
        """A folder's listing as Bunny gives it: its files and subfolders."""
        items: dict[str, dict] = {}
        for name, (body, _) in self.files.items():
            if not name.startswith(folder):
                continue
            head, _, rest = name[len(folder) :].partition("/")
            if rest:
                items[head] = {"ObjectName": head, "IsDirectory": True, "Length": 0}
            else:
                changed = self.changed[name].replace(tzinfo=None).isoformat(timespec="milliseconds")
                items[head] = {
                    "ObjectName": head,
                    "Path": f"/{ZONE}/{folder}",
                    "IsDirectory": False,
                    "Length": len(body),
                    "LastChanged": changed,
                }
        return list(items.values())

    def _pull_zone(self, request: Request) -> Reply:
        if self.token_key:
            token = request.query.get("token", [""])[0]
            expires = request.query.get("expires", ["0"])[0]
            valid = expires.isdigit() and int(expires) > time.time()
            if not valid or token != bunny_token(request.path, int(expires), self.token_key):
                return Reply(status=403, body="403 Forbidden")
        name = unquote(request.path).lstrip("/")
        if name not in self.files:
            return Reply(status=404, body="404 Not Found")
        body, content_type = self.files[name]
        return Reply(body=body, headers={"Content-Type": content_type})

    def __enter__(self) -> FakeBunny:
        self.storage.start()
        self.pull_zone.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.storage.stop()
        self.pull_zone.stop()
