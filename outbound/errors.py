from __future__ import annotations


class ProviderError(Exception):
    """A provider call failed. The retry policy reads only ``transient``.

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
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.transient = transient
        self.status = status

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
