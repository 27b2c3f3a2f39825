"""``PROVIDER_LIMITS``: one budget per provider for every worker, kept in PostgreSQL
(``worker/ratelimits.py``), and a provider's ``Retry-After`` honoured by all.

The fleet-wide tests run two real worker processes against a local fake of
Anthropic's API (driven by the real SDK) and count the calls the fake received.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from procrastinate.contrib.django.models import ProcrastinateJob

from adventures.models import Entry
from adventures.services import adventure_create
from langlearn.provider_settings import Limit, parse_limits
from worker import ratelimits
from worker.models import ProviderBudget

from tests.support.factories import make_user
from tests.support.fakes import anthropic as fake_anthropic
from tests.support.fakes.anthropic import error
from tests.support.processes import ROOT, subprocess_env, wait_for

# --- The setting --------------------------------------------------------------------


def test_limits_are_read_per_provider_with_their_window():
    assert parse_limits("") == {}
    assert parse_limits("anthropic=50/min, deepl=100/min,gemini=30/min") == {
        "anthropic": Limit(50, 60),
        "deepl": Limit(100, 60),
        "gemini": Limit(30, 60),
    }
    assert parse_limits("Gemini=2/s,deepl=1000/h") == {
        "gemini": Limit(2, 1),
        "deepl": Limit(1000, 3600),
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("openai=5/min", "provider one of anthropic, deepl, spacy, gemini"),
        ("anthropic=50", "expected provider=calls/unit"),
        ("anthropic=50/day", "got unit 'day'"),
        ("anthropic=many/min", "anthropic needs a whole number of calls, not 'many'"),
        ("anthropic=0/min", "must allow from 1 to 10000 calls per window, not 0"),
        ("anthropic=5/min,anthropic=6/min", "anthropic is given twice"),
    ],
)
def test_a_bad_limit_stops_the_start_with_a_clear_message(raw, message):
    with pytest.raises(ImproperlyConfigured, match="PROVIDER_LIMITS") as caught:
        parse_limits(raw)
    assert message in str(caught.value)


@pytest.mark.slow
def test_a_worker_with_a_bad_limit_does_not_start(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "procrastinate", "worker"],
        cwd=ROOT,
        env=subprocess_env(tmp_path, PROVIDER_LIMITS="anthropic=50/fortnight"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "PROVIDER_LIMITS: expected provider=calls/unit" in result.stderr
    assert "got unit 'fortnight'" in result.stderr


# --- The shared budget, statement by statement ----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_no_more_calls_than_the_limit_in_any_window_then_the_next_when_one_frees():
    limit = Limit(3, 1)
    granted = [ratelimits.try_acquire("deepl", limit) for _ in range(3)]
    assert [taken for taken, _ in granted] == [True, True, True]
    taken, wait = ratelimits.try_acquire("deepl", limit)
    assert not taken
    assert 0 < wait <= 1
    # Another provider has a budget of its own.
    assert ratelimits.try_acquire("gemini", limit)[0]
    time.sleep(wait + 0.01)  # the oldest grant leaves the window
    assert ratelimits.try_acquire("deepl", limit)[0]
    # The row keeps the last 3 grants only: the first one is gone.
    calls = ProviderBudget.objects.get(provider="deepl").calls
    assert len(calls) == 3
    assert (calls[-1] - calls[0]).total_seconds() >= 1 - wait


@pytest.mark.django_db(transaction=True)
def test_a_pause_stops_every_call_until_it_ends_and_is_never_shortened():
    limit = Limit(100, 60)
    ratelimits.try_acquire("anthropic", limit)
    ratelimits.block("anthropic", 30)
    ratelimits.block("anthropic", 0.5)  # a shorter pause does not cut the longer one
    taken, wait = ratelimits.try_acquire("anthropic", limit)
    assert not taken
    assert 29 < wait <= 30


# --- Across worker processes ------------------------------------------------------------

_learners = itertools.count()


def _adventures(count: int) -> list[str]:
    user = make_user(f"learner-{next(_learners)}")
    return [
        str(adventure_create(user=user, target_language="es", theme="limits").entries.get().id)
        for _ in range(count)
    ]


def _all_complete(entry_ids: list[str], workers) -> None:
    def complete() -> bool:
        statuses = list(Entry.objects.filter(id__in=entry_ids).values_list("status", flat=True))
        assert "error" not in statuses, [w.output()[-3000:] for w in workers]
        return statuses.count("complete") == len(entry_ids)

    wait_for(complete, timeout=90, what="every entry to complete")


def _workers_of(entry_ids: list[str]) -> set[int | None]:
    jobs = ProcrastinateJob.objects.filter(task_name="adventures.generate_adventure_entry")
    return {job.worker_id for job in jobs if job.args["entry_id"] in entry_ids}


def _claude_env(url: str, **extra: str) -> dict[str, str]:
    return {
        "STUB_GENERATION": "false",
        "ANTHROPIC_API_KEY": fake_anthropic.API_KEY,
        "ANTHROPIC_BASE_URL": url,
        "PROVIDER_TIMEOUT": "10",
        "WORKER_POLLING_INTERVAL": "0.2",
        # These tests count the generator's calls: one per passage. The fake's
        # passage is above A2 by the level-fit measure, which would ask again.
        "LEVEL_FIT_RETRY": "false",
        **extra,
    }


def _most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(
        sum(1 for other in times[index:] if other < start + window)
        for index, start in enumerate(times)
    )


def _warm_up(workers) -> None:
    """Until each worker has generated once: the first call of a process builds
    its client (imports the SDK), which would delay that call well after its grant."""
    warm: list[str] = []
    for _ in range(10):
        warm += _adventures(2)
        _all_complete(warm, workers)
        if len(_workers_of(warm)) == 2:
            return
    pytest.fail("one worker took every job: cannot warm both up")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_workers_share_one_budget(start_worker):
    """Each worker alone may call 3 times a second; both together may too. With
    a budget per worker, the first second alone would see 6 calls."""
    with fake_anthropic.fake_anthropic() as claude:
        env = _claude_env(claude.url, PROVIDER_LIMITS="anthropic=3/s", WORKER_CONCURRENCY="6")
        workers = [start_worker(**env), start_worker(**env)]
        wait_for(lambda: _listening() >= 2, timeout=60, what="both workers to listen")
        _warm_up(workers)
        warm_calls = len(claude.requests)
        entry_ids = _adventures(12)
        _all_complete(entry_ids, workers)
        times = [request.at for request in claude.requests[warm_calls:]]
    assert len(times) == 12  # one story passage each, no retries
    assert len(_workers_of(entry_ids)) == 2  # both workers generated
    # The fake sees each call a few ms after its grant; 0.1 s covers that jitter.
    assert _most_in_any_window(times, 0.9) <= 3
    assert max(times) - min(times) >= 3 - 0.1  # 12 calls at 3/s: four windows


def _listening() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND query LIKE 'LISTEN %%procrastinate%%'"
        )
        return cursor.fetchone()[0]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_retry_after_pauses_the_provider_for_every_worker(start_worker):
    """Worker A's call is answered 429 with ``retry-after: 3`` and waits in its
    step; the next story goes to worker B (A runs one job at a time), whose call
    must wait for the same pause instead of reaching the provider at once."""
    with fake_anthropic.fake_anthropic() as claude:
        limited = error(429, "rate_limit_error", "Number of request tokens has exceeded")
        limited.headers["retry-after"] = "3"
        claude.queue(limited)
        env = _claude_env(claude.url, PROVIDER_LIMITS="anthropic=100/min", WORKER_CONCURRENCY="1")
        workers = [start_worker(**env), start_worker(**env)]
        wait_for(lambda: _listening() >= 2, timeout=60, what="both workers to listen")
        first = _adventures(1)
        wait_for(
            lambda: ProviderBudget.objects.filter(blocked_until__isnull=False).exists(),
            timeout=60,
            what="the pause to be recorded",
        )
        second = _adventures(1)
        _all_complete(first + second, workers)
        refused, *later = claude.requests
    assert len(later) == 2  # A's retry and B's call
    assert _workers_of(first) != _workers_of(second)  # the other worker took it
    # Nobody called during the pause: not A's retry, not B's first call.
    assert min(request.at for request in later) >= refused.at + 3
