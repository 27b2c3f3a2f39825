"""What every stub does before answering: wait, record the call, maybe fail.

``STUB_LATENCY_MS`` makes stubs slow (benchmarks); ``STUB_FAULTS`` makes their
first calls fail, transiently or for good (reliability tests and drills);
``STUB_CALL_LOG`` records each call. All three are off by default. Settings
parse the first two with the functions below, once, at start-up.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from outbound.errors import ProviderError

STEPS = ("generate", "translate", "annotate", "voice")

_calls: Counter[str] = Counter()
_lock = threading.Lock()


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
    with _lock:
        _calls[step] += 1
        number = _calls[step]
        if settings.STUB_CALL_LOG:
            with open(settings.STUB_CALL_LOG, "a") as log:
                log.write(f"{step}\n")
    failing, transient = settings.STUB_FAULTS.get(step, (0, True))
    if number <= failing:
        raise ProviderError(
            f"injected fault {number}/{failing}",
            provider=f"stub-{step}",
            transient=transient,
            status=503 if transient else 400,
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


def parse_faults(raw: str, steps: tuple[str, ...] = STEPS) -> dict[str, tuple[int, bool]]:
    """Parse ``STUB_FAULTS`` (``translate=2,generate=1:permanent``).

    Returns ``{step: (failing calls, transient)}`` for the steps named.
    """
    faults: dict[str, tuple[int, bool]] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        step, sep, value = item.partition("=")
        count, _, kind = value.partition(":")
        step, kind = step.strip(), (kind.strip() or "transient")
        if not sep or step not in steps or kind not in {"transient", "permanent"}:
            raise ImproperlyConfigured(
                f"STUB_FAULTS: expected step=count[:transient|permanent] with step one of "
                f"{', '.join(steps)}; got {item!r}"
            )
        try:
            faults[step] = (int(count), kind == "transient")
        except ValueError:
            raise ImproperlyConfigured(f"STUB_FAULTS: {step} needs a whole count") from None
    return faults
