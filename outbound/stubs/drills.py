"""What every stub does before answering: wait, record the call, maybe fail.

``STUB_LATENCY_MS`` makes stubs slow (benchmarks); ``STUB_FAULTS`` makes their
first calls fail, or a share of them at random, transiently or for good
(reliability tests and drills); ``STUB_CALL_LOG`` records each call: ``step``
for a call answered, ``step:fault`` for an injected failure. All three are off
by default. Settings parse the first two once, at start-up
(``langlearn.provider_settings``); ``STUB_FAULT_SEED`` seeds the random faults.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter

from django.conf import settings

from outbound.errors import ProviderError

_calls: Counter[str] = Counter()
_lock = threading.Lock()
_random: random.Random | None = None


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
