"""Running a pipeline's independent steps side by side."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable


async def side_by_side(*steps: Awaitable[None]) -> None:
    """Await every step, side by side. A failing step does not cancel the
    others: each records its own result, and what finished is kept for the
    retry. Then the first failure, if any, is raised."""
    for result in await asyncio.gather(*steps, return_exceptions=True):
        if isinstance(result, BaseException):
            raise result
