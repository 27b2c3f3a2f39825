"""gunicorn's access log without secrets.

``--logger-class langlearn.access_log.RedactingLogger`` (compose/start-api and
``run.py serve``) keeps gunicorn's usual line but leaves out query strings, in
the request line and in the Referer (a token or password sent as
``?token=…`` never reaches the log), and scrubs what is left (header atoms a
custom ``--access-logformat`` may ask for, such as ``{authorization}i``)
with the project's redaction (``langlearn.logging.redact_text``).

Under the ASGI server (``-k langlearn.asgi_worker.UvicornWorker``: ``run.py serve``,
``compose/start-api``) uvicorn writes the access line itself, through the
handlers of this logger's access log: ``UvicornAccessFilter`` on those handlers
takes the query string out of its path and scrubs the rest. uvicorn's line has
no Referer or headers, so nothing else can leak there.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gunicorn.glogging import Logger

from langlearn.logging import redact_text


def _without_query(url: str) -> str:
    if "?" not in url and "#" not in url:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class UvicornAccessFilter(logging.Filter):
    """uvicorn's access records: ``(client, method, path?query, http version, status)``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, version, status = args
            record.args = (
                redact_text(str(client)),
                redact_text(str(method)),
                redact_text(_without_query(str(path))),
                version,
                status,
            )
        return True


class RedactingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.access_log.handlers:
            if not any(isinstance(f, UvicornAccessFilter) for f in handler.filters):
                handler.addFilter(UvicornAccessFilter())

    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        method, protocol = environ.get("REQUEST_METHOD", "-"), environ.get("SERVER_PROTOCOL", "-")
        atoms["r"] = f"{method} {_without_query(environ.get('RAW_URI', ''))} {protocol}"
        atoms["q"] = ""
        atoms["f"] = _without_query(atoms.get("f") or "-")
        for key, value in atoms.items():
            if isinstance(value, str) and key.startswith("{"):
                atoms[key] = redact_text(_without_query(value) if key == "{referer}i" else value)
            elif isinstance(value, str):
                atoms[key] = redact_text(value)
        return atoms
