"""``worker.providers.call_provider``: the retry inside a step, before the job's retry."""

from __future__ import annotations

import asyncio
import time

import pytest

from outbound.errors import ProviderError
from worker.providers import call_provider


class Provider:
    """A provider that fails with the given errors, then answers."""

    def __init__(self, *failures: ProviderError) -> None:
        self.failures, self.calls = list(failures), 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "answer"


def transient(retry_after: float | None = None) -> ProviderError:
    return ProviderError("busy", provider="fake", transient=True, retry_after=retry_after)


@pytest.fixture(autouse=True)
def _quick(settings) -> None:
    settings.PROVIDER_RETRY = {"tries": 4, "wait_minimum": 0.01, "wait_maximum": 0.05, "budget": 2}


def test_transient_failures_are_tried_again_within_the_step():
    provider = Provider(transient(), transient(), transient())
    assert asyncio.run(call_provider("translate", provider)) == "answer"
    assert provider.calls == 4


def test_the_last_try_and_permanent_failures_propagate():
    provider = Provider(*(transient() for _ in range(4)))
    with pytest.raises(ProviderError):
        asyncio.run(call_provider("translate", provider))
    assert provider.calls == 4
    permanent = Provider(ProviderError("bad key", provider="fake", transient=False))
    with pytest.raises(ProviderError):
        asyncio.run(call_provider("translate", permanent))
    assert permanent.calls == 1


def test_retry_after_is_honoured_within_the_budget():
    provider = Provider(transient(retry_after=0.4))
    started = time.monotonic()
    assert asyncio.run(call_provider("voice", provider)) == "answer"
    assert time.monotonic() - started >= 0.4
    # A wait past the step's budget is left to the job's retry, at once.
    beyond = Provider(transient(retry_after=30))
    started = time.monotonic()
    with pytest.raises(ProviderError):
        asyncio.run(call_provider("voice", beyond))
    assert beyond.calls == 1
    assert time.monotonic() - started < 1
