"""The providers' settings that need more than an env helper, parsed once at
start-up (a bad value stops the process with a message naming the variable).

``PROVIDER_LIMITS``: how many calls each provider may get per window, fleet-wide.

``anthropic=50/min,deepl=100/min,gemini=30/min`` (also ``/s`` and ``/h``);
unset or empty means unlimited. ``worker/ratelimits.py`` enforces the limits
through PostgreSQL.

Each pipeline step calls one provider; the stubs that stand in for a provider
count as that provider, so a drill or the bench can exercise a limit without
keys.

``STUB_LATENCY_MS`` and ``STUB_FAULTS``: the stubs' drills (``outbound.stubs.drills``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

STEPS = ("generate", "translate", "annotate", "voice")

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


@dataclass(frozen=True)
class Fault:
    """Fail the first ``count`` calls, or each call with ``probability``."""

    transient: bool = True
    count: int = 0
    probability: float = 0.0

    def due(self, number: int, chance: random.Random) -> bool:
        if self.probability:
            return chance.random() < self.probability
        return number <= self.count

    def describe(self, number: int) -> str:
        if self.probability:
            return f"injected fault (call {number}, {self.probability:.0%} fail)"
        return f"injected fault {number}/{self.count}"


def parse_latencies(raw: str, steps: tuple[str, ...] = STEPS) -> dict[str, int]:
    """Parse ``STUB_LATENCY_MS`` (``generate=800,translate=150``) into ms per step."""
    latencies = dict.fromkeys(steps, 0)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        step, sep, value = item.partition("=")
        step = step.strip()
        if not sep or step not in latencies:
            raise ImproperlyConfigured(
                f"STUB_LATENCY_MS: expected step=milliseconds with step one of "
                f"{', '.join(steps)}; got {item!r}"
            )
        try:
            latencies[step] = int(value)
        except ValueError:
            raise ImproperlyConfigured(
                f"STUB_LATENCY_MS: {step} must be whole milliseconds, not {value!r}"
            ) from None
        if latencies[step] < 0:
            raise ImproperlyConfigured(f"STUB_LATENCY_MS: {step} must not be negative")
    return latencies


def parse_faults(raw: str, steps: tuple[str, ...] = STEPS) -> dict[str, Fault]:
    """Parse ``STUB_FAULTS``: ``translate=2`` (the first 2 calls fail),
    ``translate=30%`` (each call fails with probability 0.3),
    ``generate=1:permanent`` (for good instead of transiently).
    """
    faults: dict[str, Fault] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        step, sep, value = item.partition("=")
        amount, _, kind = value.partition(":")
        step, amount, kind = step.strip(), amount.strip(), (kind.strip() or "transient")
        if not sep or step not in steps or kind not in {"transient", "permanent"}:
            raise ImproperlyConfigured(
                f"STUB_FAULTS: expected step=count or step=percent%[:transient|permanent] "
                f"with step one of {', '.join(steps)}; got {item!r}"
            )
        transient = kind == "transient"
        try:
            if amount.endswith("%"):
                percent = float(amount[:-1])
                if not 0 <= percent <= 100:
                    raise ValueError
                faults[step] = Fault(transient, probability=percent / 100)
            else:
                faults[step] = Fault(transient, count=int(amount))
        except ValueError:
            raise ImproperlyConfigured(
                f"STUB_FAULTS: {step} needs a whole count or a percentage from 0% to 100%, "
                f"not {amount!r}"
            ) from None
    return faults
