from __future__ import annotations

import asyncio

from django.conf import settings


async def stub_delay(step: str) -> None:
    """Wait as long as ``STUB_LATENCY_MS`` says for ``step``, without blocking."""
    milliseconds = settings.STUB_LATENCY_MS.get(step, 0)
    if milliseconds:
        await asyncio.sleep(milliseconds / 1000)
