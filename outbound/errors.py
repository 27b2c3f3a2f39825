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
