"""The JSON parser of the API (``DEFAULT_PARSER_CLASSES``).

Its own module: DRF imports it while it sets up ``rest_framework.views``, which
``langlearn.api`` imports, so it cannot live there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

# Deeper than any body we accept; json itself gives up (RecursionError) near 1000.
MAX_JSON_DEPTH = 32


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, which lets ``RecursionError`` through: ``json`` raises
    it, not ``ValueError``, on a body nested about a thousand levels deep. That
    is a 400 here, as is any body nested deeper than ``MAX_JSON_DEPTH``. (DRF
    reads ``request.body`` for this parser, so Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` holds: ``langlearn.api`` answers 413.)
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        parser_context = parser_context or {}
        raw = stream.read()
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(
                raw.decode(encoding),
                parse_constant=json.strict_constant if self.strict else None,
            )
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError too
            raise ParseError(f"JSON parse error - {exc}") from exc
        if _depth_over(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data


def _depth_over(data: Any, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False
