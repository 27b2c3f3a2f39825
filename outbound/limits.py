"""``PROVIDER_LIMITS``: how many calls each provider may get per window, fleet-wide.

``anthropic=50/min,deepl=100/min,gemini=30/min`` (also ``/s`` and ``/h``);
unset or empty means unlimited. Settings parse it once at start-up with
``parse_limits``, so a bad value stops the process with a message naming the
variable. ``adventures/ratelimits.py`` enforces the limits through PostgreSQL.

Each pipeline step calls one provider; the stubs that stand in for a provider
count as that provider, so a drill or the bench can exercise a limit without
keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

# The provider behind each step (outbound/factory.py: the real client or its stub).
PROVIDER_OF_STEP = {
    "generate": "anthropic",
    "translate": "deepl",
    "annotate": "spacy",
    "voice": "gemini",
}
PROVIDERS = tuple(dict.fromkeys(PROVIDER_OF_STEP.values()))
WINDOWS = {"s": 1, "sec": 1, "second": 1, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
# Every window keeps the times of its last ``calls`` grants in one row (an array):
# a bound keeps that row small.
MAX_CALLS = 10_000


@dataclass(frozen=True)
class Limit:
    """At most ``calls`` calls in any ``window`` seconds."""

    calls: int
    window: int

    def __str__(self) -> str:
        unit = {1: "s", 60: "min", 3600: "h"}[self.window]
        return f"{self.calls}/{unit}"


def parse_limits(raw: str, name: str = "PROVIDER_LIMITS") -> dict[str, Limit]:
    """``provider=N/unit`` items separated by commas; ``{}`` when empty."""
    limits: dict[str, Limit] = {}
    expected = (
        f"{name}: expected provider=calls/unit (e.g. anthropic=50/min), provider one of "
        f"{', '.join(PROVIDERS)} and unit one of s, min, h"
    )
    for item in filter(None, (part.strip() for part in raw.split(","))):
        provider, sep, value = item.partition("=")
        provider = provider.strip().lower()
        calls, slash, unit = value.strip().partition("/")
        if not sep or not slash or provider not in PROVIDERS:
            raise ImproperlyConfigured(f"{expected}; got {item!r}")
        if provider in limits:
            raise ImproperlyConfigured(f"{name}: {provider} is given twice")
        window = WINDOWS.get(unit.strip().lower())
        if window is None:
            raise ImproperlyConfigured(f"{expected}; got unit {unit.strip()!r} in {item!r}")
        try:
            count = int(calls)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}: {provider} needs a whole number of calls, not {calls.strip()!r}"
            ) from None
        if not 1 <= count <= MAX_CALLS:
            raise ImproperlyConfigured(
                f"{name}: {provider} must allow from 1 to {MAX_CALLS} calls per window, not {count}"
            )
        limits[provider] = Limit(count, window)
    return limits
