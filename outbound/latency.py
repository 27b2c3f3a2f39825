"""What every stub does before answering: wait, record the call, maybe fail.

``STUB_LATENCY_MS`` makes stubs slow (benchmarks); ``STUB_FAULTS`` makes their
first calls fail, transiently or for good (reliability tests and drills);
``STUB_CALL_LOG`` records each call. All three are off by default.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from django.conf import settings

from .errors import ProviderError

_calls: Counter[str] = Counter()
_lock = threading.Lock()


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
