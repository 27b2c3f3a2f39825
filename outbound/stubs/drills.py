"""What every stub does before answering: wait, record the call, maybe fail.

``STUB_LATENCY_MS`` makes stubs slow (benchmarks); ``STUB_FAULTS`` makes their
first calls fail, or a share of them at random, transiently or for good
(reliability tests and drills); ``STUB_CALL_LOG`` records each call: ``step``
for a call answered, ``step:fault`` for an injected failure. All three are off
by default. Settings parse the first two with the functions below, once, at
start-up; ``STUB_FAULT_SEED`` seeds the random faults.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from outbound.errors import ProviderError

STEPS = ("generate", "translate", "annotate", "voice")

_calls: Counter[str] = Counter()
_lock = threading.Lock()
_random: random.Random | None = None


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


def configured(step: str) -> bool:
    """Whether any drill is set for ``step`` (a wait, a fault or the call log)."""
    return bool(
        settings.STUB_LATENCY_MS.get(step) or step in settings.STUB_FAULTS or settings.STUB_CALL_LOG
    )


async def stub_delay(step: str) -> None:
    """Wait as long as ``STUB_LATENCY_MS`` says for ``step``, without blocking;
    then record the call and raise an injected fault if one is due."""
    milliseconds = settings.STUB_LATENCY_MS.get(step, 0)
    if milliseconds:
        await asyncio.sleep(milliseconds / 1000)
    global _random
    fault = settings.STUB_FAULTS.get(step)
    with _lock:
        _calls[step] += 1
        number = _calls[step]
        if _random is None:
            _random = random.Random(settings.STUB_FAULT_SEED)
        failing = fault is not None and fault.due(number, _random)
        if settings.STUB_CALL_LOG:
            with open(settings.STUB_CALL_LOG, "a") as log:
                log.write(f"{step}:fault\n" if failing else f"{step}\n")
    if fault is not None and failing:
        raise ProviderError(
            fault.describe(number),
            provider=f"stub-{step}",
            transient=fault.transient,
            status=503 if fault.transient else 400,
        )


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
