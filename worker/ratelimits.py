"""``PROVIDER_LIMITS`` enforced across every worker process, through PostgreSQL.

The approach: a **sliding-window log in one row per provider**
(``models.ProviderBudget``). The row keeps the grant times of the provider's
last ``N`` calls (``N`` = its limit per window). A call may start when fewer
than ``N`` calls were granted in the last window, i.e. when the ``N``-th most
recent grant is older than the window, and no ``Retry-After`` pause is on.
Taking a slot is one statement (``ACQUIRE``): an ``UPDATE … WHERE <room> …
RETURNING`` that appends the time and drops the oldest. PostgreSQL's row lock
serialises concurrent takers, and in READ COMMITTED a taker that waited on the
lock re-checks the condition against the row its rival wrote, so two workers
can never both take the last slot. Times come from the database's clock, one
clock for the whole fleet.

Why this rather than the alternatives:

- a token bucket (one number and a time) allows its capacity *plus* a window's
  refill in some window (2N calls in 60 s for ``N/min``); the log allows never
  more than N in any window, which is what providers count, and still lets a
  quiet provider take a burst of N at once;
- leased slots (a row per call) or advisory locks need several statements, or
  a connection held while waiting;
- the row stays small: ``N`` timestamps, at most ``langlearn.provider_settings.MAX_CALLS``.

Waiting holds nothing: a refused attempt returns how long until a slot frees
(from the same statement), the step sleeps on the event loop (other jobs' steps
carry on), then asks again. Each attempt is one short statement on the worker's
ORM connection (through ``orm.db``), never a connection held while sleeping.

A provider's answer with ``Retry-After`` pauses that provider for every worker
(``block``: ``blocked_until``, only ever moved later). Providers without a
limit are not coordinated: no query at all on their calls.
"""

from __future__ import annotations

import asyncio
import logging
import random

from django.conf import settings
from django.db import connection

from langlearn.provider_settings import PROVIDER_OF_STEP, Limit

from .orm import db

logger = logging.getLogger(__name__)

TABLE = "worker_providerbudget"

# One round trip: take a slot if there is room; either way, say how long the
# caller would have to wait (from the row as it was before this statement).
ACQUIRE = f"""
WITH taken AS (
    UPDATE {TABLE}
    SET calls = (calls || clock_timestamp())[greatest(1, cardinality(calls) + 2 - %(calls)s):]
    WHERE provider = %(provider)s
      AND (blocked_until IS NULL OR blocked_until <= clock_timestamp())
      AND (cardinality(calls) < %(calls)s
           OR calls[cardinality(calls) + 1 - %(calls)s]
              < clock_timestamp() - make_interval(secs => %(window)s))
    RETURNING 1
)
SELECT
    EXISTS (SELECT FROM taken),
    greatest(
        coalesce(extract(epoch FROM blocked_until - clock_timestamp()), 0),
        CASE WHEN cardinality(calls) >= %(calls)s THEN extract(epoch FROM
            calls[cardinality(calls) + 1 - %(calls)s]
            + make_interval(secs => %(window)s) - clock_timestamp())
        ELSE 0 END
    )::float8
FROM {TABLE} WHERE provider = %(provider)s
"""

ENSURE = f"""
INSERT INTO {TABLE} (provider, calls, blocked_until) VALUES (%s, '{{}}', NULL)
ON CONFLICT (provider) DO NOTHING
"""

BLOCK = f"""
UPDATE {TABLE}
SET blocked_until = greatest(
    coalesce(blocked_until, '-infinity'), clock_timestamp() + make_interval(secs => %s))
WHERE provider = %s
"""

# The shortest and longest sleep between two attempts, seconds: short enough
# that a freed slot is soon taken, long enough not to hammer the row.
MIN_PAUSE = 0.005
MAX_PAUSE = 5.0

_rows_made: set[str] = set()


def limit_of(provider: str) -> Limit | None:
    return settings.PROVIDER_LIMITS.get(provider)


def provider_of(step: str) -> str:
    return PROVIDER_OF_STEP.get(step, step)


def try_acquire(provider: str, limit: Limit) -> tuple[bool, float]:
    """Take one slot of ``provider``'s budget if there is room: ``(taken, wait)``,
    ``wait`` being the seconds until one might be free when none was taken."""
    with connection.cursor() as cursor:
        if provider not in _rows_made:
            cursor.execute(ENSURE, [provider])
            _rows_made.add(provider)
        cursor.execute(
            ACQUIRE, {"provider": provider, "calls": limit.calls, "window": limit.window}
        )
        row = cursor.fetchone()
    if row is None:  # the row was deleted meanwhile: make it again next time
        _rows_made.discard(provider)
        return False, 0.0
    return bool(row[0]), max(float(row[1] or 0.0), 0.0)


def block(provider: str, seconds: float) -> None:
    """Pause ``provider`` for every worker for ``seconds`` (never shortening a pause)."""
    with connection.cursor() as cursor:
        cursor.execute(BLOCK, [seconds, provider])


async def acquire(step: str) -> None:
    """Wait, without holding a connection or the event loop, for a slot of the
    provider behind ``step``; return at once when it has no limit."""
    provider = provider_of(step)
    limit = limit_of(provider)
    if limit is None:
        return
    waited = 0.0
    while True:
        taken, wait = await db(try_acquire)(provider, limit)
        if taken:
            if waited >= 1:
                logger.info("%s waited %.1fs for a %s slot (%s)", step, waited, provider, limit)
            return
        # A little jitter, so that workers woken together do not all ask at once.
        pause = min(max(wait, MIN_PAUSE), MAX_PAUSE) + random.uniform(0, MIN_PAUSE)
        waited += pause
        await asyncio.sleep(pause)


async def pause_fleet(step: str, seconds: float) -> None:
    """The provider behind ``step`` asked us to wait: every worker waits."""
    provider = provider_of(step)
    if limit_of(provider) is None or seconds <= 0:
        return
    await db(block)(provider, seconds)
    logger.warning("%s asked to wait %.1fs: paused for every worker", provider, seconds)
