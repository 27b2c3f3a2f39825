from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any


class ProviderError(Exception):
    """A provider call failed. The retry policies read ``transient``, and
    ``retry_after`` (seconds) when the provider said how long to wait.

    Transient: timeouts, connection errors, 429, 5xx, "overloaded", and answers
    that were malformed this time but may be fine next time. Permanent: bad
    request, authentication, unsupported language — retrying cannot help.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        transient: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.transient = transient
        self.status = status
        self.retry_after = retry_after

    def __str__(self) -> str:
        kind = "transient" if self.transient else "permanent"
        status = f" (HTTP {self.status})" if self.status else ""
        return f"{self.provider}: {self.message}{status} [{kind}]"


# 408 request timeout, 409 conflict (Anthropic: try again), 425 too early,
# 429 rate limited, 5xx server side (529 is Anthropic's "overloaded").
TRANSIENT_STATUSES = frozenset({408, 409, 425, 429})


def is_transient_status(status: int | None) -> bool:
    """Whether an HTTP error status is worth retrying later."""
    if status is None:
        return True  # no answer at all: a connection problem
    return status in TRANSIENT_STATUSES or status >= 500


def retry_after(response: Any) -> float | None:
    """Seconds to wait that an HTTP error response asks for, if any:
    ``retry-after-ms``, or ``Retry-After`` as seconds or as an HTTP date."""
    headers: Mapping[str, str] | None = getattr(response, "headers", None)
    if not headers:
        return None
    try:
        if milliseconds := headers.get("retry-after-ms"):
            return max(0.0, float(milliseconds) / 1000)
        value = headers.get("retry-after")
        if not value:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None  # unreadable: as if absent
