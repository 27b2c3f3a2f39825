"""The ``load`` section: a classroom at once, then a school's afternoon.

One gunicorn as production runs it (2 web processes, the default
``WEB_THREADS``, throttles out of reach) and one worker
(``WORKER_CONCURRENCY=32``: the stubs wait ``--latencies`` without using the
CPU) serve learners who act as clients do, each on connections of its own
(httpx, asyncio, in the bench process):

- ``burst``: ``load_learners`` learners sign up at the same instant, each
  then signs in, starts a story (Spanish, A2) and makes ``load_decisions``
  choices, following the story's events stream (``GET …/events``) to know
  when the passage is ready, reading it (``GET`` the entry) and choosing after
  ``BURST_READ_SECONDS``: every answer's status (``http_5xx``,
  ``success_rate`` of the sign-ups), ``signed_up_seconds`` and
  ``signed_in_seconds`` (from the burst's start until the last learner was
  answered), latencies per endpoint, and the passages completed against those
  asked for (``lost`` must be 0);
- ``sustained``: ``sustained_learners`` learners (made directly, with tokens)
  arrive over ``sustained_read_seconds`` and for ``sustained_seconds`` read
  and choose as above, each passage read for ``sustained_read_seconds`` (±50 %),
  a new story when one ends: the same figures, reads (``entry_read``) above
  all;
- ``password_hash_ms``: wall and CPU time of one password hash with Django's
  PBKDF2 (its default iterations, and OWASP's 600,000), Django's Argon2 and
  the project's hasher, one at a time in the bench process.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil

from ..database import make_learners, query
from ..fleet import Fleet
from ..plan import ADVENTURE, THROTTLE, Plan, log, step
from ..processes import BenchError, Child, wait_until
from ..stats import distribution, format_latencies

PASSWORD = "a-classroom-passphrase"
BURST_READ_SECONDS = 1.0
WORKER_CONCURRENCY = "32"
# Above WEB_QUEUE_TIMEOUT: a request refused by the server is seen as its 503.
REQUEST_TIMEOUT = 90.0
# How long the passages asked for may take to complete once the learners stop.
SETTLE_SECONDS = 180.0
HASH_SAMPLES = 8


@dataclass
class Tally:
    """What the learners of one run saw: per endpoint, latencies and statuses."""

    started: float = field(default_factory=time.perf_counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    answered_at: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    adventures: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    async def call(
        self,
        client: httpx.AsyncClient,
        endpoint: str,
        method: str,
        path: str,
        *,
        token: str = "",
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        sent = time.perf_counter()
        try:
            response = await client.request(method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            self.statuses[endpoint][type(exc).__name__] += 1
            raise
        answered = time.perf_counter()
        self.latencies[endpoint].append((answered - sent) * 1000)
        self.statuses[endpoint][str(response.status_code)] += 1
        self.answered_at[endpoint].append(answered - self.started)
        return response

    def figures(self) -> dict[str, Any]:
        answers: Counter[str] = Counter()
        for counts in self.statuses.values():
            answers.update(counts)
        return {
            "requests": sum(answers.values()),
            "http_5xx": sum(n for status, n in answers.items() if status.startswith("5")),
            "answers": dict(sorted(answers.items())),
            "answers_per_endpoint": {
                name: dict(sorted(counts.items())) for name, counts in sorted(self.statuses.items())
            },
            "endpoints_ms": {
                name: distribution(samples) | {"count": len(samples)}
                for name, samples in sorted(self.latencies.items())
            },
        }


class Refused(Exception):
    """The server answered a learner's request with an error: that learner stops."""


def _expect(response: httpx.Response, status: int, what: str) -> Any:
    if response.status_code != status:
        raise Refused(f"{what} answered {response.status_code}: {response.text[:200]}")
    return response.json()


async def _follow(
    client: httpx.AsyncClient, adventure_id: str, token: str, statuses: asyncio.Queue
) -> None:
    """The story's events stream: each entry's status, as it changes, into ``statuses``."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    url = f"/api/adventures/{adventure_id}/events"
    timeout = httpx.Timeout(REQUEST_TIMEOUT, read=None)
    async with client.stream("GET", url, headers=headers, timeout=timeout) as response:
        if response.status_code != 200:
            raise Refused(f"events stream answered {response.status_code}")
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                event = json.loads(line[5:])
                if "id" in event:
                    await statuses.put((event["id"], event["status"]))


async def _play_story(
    client: httpx.AsyncClient,
    tally: Tally,
    token: str,
    *,
    decisions: int | None,
    read_seconds: float,
    until: float | None,
) -> bool:
    """Start a story and play it: wait for each passage on the events stream,
    read it, choose after ``read_seconds`` (±50 % when ``until`` is set). Stops
    after ``decisions`` choices, at the story's end, or once ``until``
    (perf_counter) has passed; True when the story ended."""
    response = await tally.call(
        client, "adventure_create", "POST", "/api/adventures", token=token, body=ADVENTURE
    )
    adventure = _expect(response, 201, "POST /api/adventures")
    tally.adventures.append(adventure["id"])
    statuses: asyncio.Queue = asyncio.Queue()
    follower = asyncio.create_task(_follow(client, adventure["id"], token, statuses))
    entry_id = adventure["entries"][0]["id"]
    made = 0
    try:
        while True:
            while True:
                getter = asyncio.ensure_future(statuses.get())
                done, _ = await asyncio.wait(
                    {getter, follower}, timeout=REQUEST_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done:
                    getter.cancel()
                    if follower in done:
                        follower.result()  # its error, if any
                        raise Refused("events stream ended before the passage was ready")
                    raise Refused(f"entry {entry_id} not complete after {REQUEST_TIMEOUT:.0f}s")
                seen, status = getter.result()
                if seen == entry_id and status == "complete":
                    break
                if seen == entry_id and status == "error":
                    raise Refused(f"entry {entry_id} failed")
            path = f"/api/adventures/{adventure['id']}/entries/{entry_id}"
            entry = _expect(
                await tally.call(client, "entry_read", "GET", path, token=token), 200, "GET entry"
            )
            if not entry["choices"]:
                return True
            if decisions is not None and made >= decisions:
                return False
            if until is not None and time.perf_counter() >= until:
                return False
            pause = read_seconds * random.uniform(0.5, 1.5) if until is not None else read_seconds
            await asyncio.sleep(pause)  # the learner reads
            choice = min(entry["choices"], key=lambda c: c["index"])
            response = await tally.call(
                client,
                "decision",
                "POST",
                f"/api/adventures/{adventure['id']}/decisions",
                token=token,
                body={"entry_id": entry_id, "choice_id": choice["id"]},
            )
            entry_id = _expect(response, 201, "POST decisions")["next_entry"]["id"]
            made += 1
    finally:
        follower.cancel()


async def _classroom(web: Child, plan: Plan, tally: Tally) -> dict[str, float]:
    """The burst: every learner signs up at the same instant, then plays. What
    the sign-ups and sign-ins cost: the web server's CPU from the start until
    the last learner was answered, and how busy the machine's CPUs were."""
    gate = asyncio.Event()
    through: list[str] = []  # learners answered (signed in, or refused)
    cost: dict[str, float] = {}

    def answered(name: str) -> None:
        through.append(name)
        if len(through) == plan.load_learners:
            cost["web_cpu_seconds"] = web.cpu_seconds() - cost.pop("web_cpu_at_start")
            cost["machine_cpu_percent"] = psutil.cpu_percent()

    async def learner(client: httpx.AsyncClient, index: int) -> None:
        name = f"pupil{index:04d}"
        credentials = {"username": name, "password": PASSWORD}
        await gate.wait()
        try:
            try:
                response = await tally.call(
                    client, "register", "POST", "/api/auth/register", body=credentials
                )
                _expect(response, 201, "POST /api/auth/register")
                response = await tally.call(
                    client, "token", "POST", "/api/auth/token", body=credentials
                )
                token = _expect(response, 200, "POST /api/auth/token")["access"]
            finally:
                answered(name)
            await _play_story(
                client,
                tally,
                token,
                decisions=plan.load_decisions,
                read_seconds=BURST_READ_SECONDS,
                until=None,
            )
        except (Refused, httpx.HTTPError) as exc:
            tally.failures.append(f"{name}: {type(exc).__name__}: {exc}")

    async with _client(web.port, plan.load_learners) as client:
        tasks = [asyncio.create_task(learner(client, index)) for index in range(plan.load_learners)]
        await asyncio.sleep(0.5)  # every learner waiting at the gate
        cost["web_cpu_at_start"] = web.cpu_seconds()
        psutil.cpu_percent()  # the machine's CPUs, from now on
        tally.started = time.perf_counter()
        gate.set()
        await asyncio.gather(*tasks)
    return cost


async def _afternoon(port: int, plan: Plan, tokens: list[str], tally: Tally) -> None:
    """The sustained run: learners arrive over one reading time, then read and
    choose until the run's time is up."""
    tally.started = time.perf_counter()
    until = tally.started + plan.sustained_seconds

    async def learner(client: httpx.AsyncClient, index: int, token: str) -> None:
        await asyncio.sleep(plan.sustained_read_seconds * index / len(tokens))
        try:
            while time.perf_counter() < until:
                ended = await _play_story(
                    client,
                    tally,
                    token,
                    decisions=None,
                    read_seconds=plan.sustained_read_seconds,
                    until=until,
                )
                if not ended:
                    return
        except (Refused, httpx.HTTPError) as exc:
            tally.failures.append(f"learner {index}: {type(exc).__name__}: {exc}")

    async with _client(port, len(tokens)) as client:
        await asyncio.gather(
            *(asyncio.create_task(learner(client, i, token)) for i, token in enumerate(tokens))
        )


def _client(port: int, learners: int) -> httpx.AsyncClient:
    # Each request on a connection of its own, closed after its answer: a
    # learner's requests are seconds apart, longer than the server keeps an
    # idle connection (gunicorn's --keep-alive, 2 s, which its uvicorn workers
    # take), and a request sent as the server closes one would fail in the
    # client (a browser sends it again), not in the server.
    limits = httpx.Limits(max_connections=2 * learners + 10, max_keepalive_connections=0)
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=REQUEST_TIMEOUT
    )


def _passages(adventures: list[str], worker: Child) -> dict[str, Any]:
    """Once every passage asked for is complete (or in error, or the time is
    up): how many were asked for (the rows: each story's first entry and each
    decision's next), completed, in error, and lost (neither)."""
    if not adventures:
        return {"passages_asked": 0, "passages_completed": 0, "passages_failed": 0, "lost": 0}

    def counts() -> tuple[int, int, int]:
        [(asked, completed, failed)] = query(
            "SELECT count(*), count(*) FILTER (WHERE status = 'complete'),"
            " count(*) FILTER (WHERE status = 'error')"
            " FROM adventures_entry WHERE adventure_id::text = ANY(%s) AND position IS NOT NULL",
            [adventures],
        )
        return asked, completed, failed

    def settled() -> bool:
        worker.check_alive()
        asked, completed, failed = counts()
        return completed + failed == asked

    try:
        wait_until(settled, timeout=SETTLE_SECONDS, what="every passage asked for to complete")
    except BenchError as exc:
        log(f"load: {exc}")
    asked, completed, failed = counts()
    return {
        "passages_asked": asked,
        "passages_completed": completed,
        "passages_failed": failed,
        "lost": asked - completed - failed,
    }


def _burst_figures(plan: Plan, tally: Tally, cost: dict[str, float]) -> dict[str, Any]:
    signed_up = tally.statuses["register"]["201"]
    signed_in = tally.statuses["token"]["200"]
    web_cpu = cost.get("web_cpu_seconds", 0.0)
    return {
        "learners": plan.load_learners,
        "decisions_each": plan.load_decisions,
        "signed_up": signed_up,
        "signed_in": signed_in,
        "success_rate": round(signed_up / plan.load_learners, 3),
        "signed_up_seconds": round(max(tally.answered_at["register"], default=0), 2),
        "signed_in_seconds": round(max(tally.answered_at["token"], default=0), 2),
        # CPU the web server spent until the last learner signed in, per learner
        # (sign-up and sign-in, with whatever else it served meanwhile).
        "web_cpu_seconds_to_sign_in": round(web_cpu, 2),
        "web_cpu_ms_per_learner": round(1000 * web_cpu / plan.load_learners, 1),
        "machine_cpu_percent_to_sign_in": cost.get("machine_cpu_percent"),
        **tally.figures(),
        "failures": tally.failures[:10],
    }


def password_hashes(samples: int = HASH_SAMPLES) -> dict[str, dict[str, Any]]:
    """Wall and CPU ms (p50) to verify one password, per hasher, one at a time;
    ``project`` is the first of ``PASSWORD_HASHERS``, the one new passwords get."""
    from django.contrib.auth import hashers

    class OwaspPBKDF2(hashers.PBKDF2PasswordHasher):
        iterations = 600_000

    candidates = {
        f"pbkdf2_sha256_{hashers.PBKDF2PasswordHasher.iterations}_django_default": (
            hashers.PBKDF2PasswordHasher()
        ),
        "pbkdf2_sha256_600000_owasp": OwaspPBKDF2(),
        "argon2id_m102400_t2_p8_django_default": hashers.Argon2PasswordHasher(),
        "project": hashers.get_hasher(),
    }
    figures = {}
    for name, hasher in candidates.items():
        encoded = hasher.encode(PASSWORD, hasher.salt())
        walls, cpus = [], []
        for _ in range(samples):
            wall, cpu = time.perf_counter(), time.process_time()
            if not hasher.verify(PASSWORD, encoded):
                raise BenchError(f"{name}: the password did not verify")
            walls.append((time.perf_counter() - wall) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        figures[name] = {
            "parameters": encoded.rsplit("$", 2)[0],  # the stored hash, less salt and hash
            "wall_ms_p50": distribution(walls, 1)["p50"],
            "cpu_ms_p50": distribution(cpus, 1)["p50"],
        }
    return figures


def measure(plan: Plan, fleet: Fleet) -> dict[str, Any]:
    """The ``load`` figures, on a gunicorn and a worker of the section's own."""
    from django.conf import settings

    with step("load: password hashes, one at a time"):
        hashes = password_hashes()
    web = fleet.start("web", THROTTLE_REGISTER=THROTTLE, THROTTLE_LOGIN=THROTTLE)
    worker = fleet.start(
        "worker",
        STUB_LATENCY_MS=format_latencies(plan.latencies),
        WORKER_CONCURRENCY=WORKER_CONCURRENCY,
    )
    burst = Tally()
    with step(
        f"load: {plan.load_learners} learners sign up at once, then play "
        f"{plan.load_decisions} decisions each"
    ):
        cost = asyncio.run(_classroom(web, plan, burst))
        burst_figures = _burst_figures(plan, burst, cost) | {
            "seconds": round(time.perf_counter() - burst.started, 1)
        }
        burst_figures |= _passages(burst.adventures, worker)
    tokens = make_learners(plan.sustained_learners, prefix="steady")
    sustained = Tally()
    with step(
        f"load: {plan.sustained_learners} learners read and choose for "
        f"{plan.sustained_seconds:.0f}s (reading {plan.sustained_read_seconds:.0f}s a passage)"
    ):
        cpu_before = web.cpu_seconds(), worker.cpu_seconds()
        psutil.cpu_percent()  # the machine's CPUs, from now on
        asyncio.run(_afternoon(web.port, plan, tokens, sustained))
        web_cpu, worker_cpu = (
            web.cpu_seconds() - cpu_before[0],
            worker.cpu_seconds() - cpu_before[1],
        )
        figures = sustained.figures()
        sustained_figures = {
            "learners": plan.sustained_learners,
            "seconds": plan.sustained_seconds,
            "read_seconds": plan.sustained_read_seconds,
            # Where the CPU went meanwhile: per request the web server answered,
            # per passage the worker completed; the machine's CPUs, all of them.
            "web_cpu_ms_per_request": round(1000 * web_cpu / max(figures["requests"], 1), 1),
            "worker_cpu_seconds": round(worker_cpu, 1),
            "machine_cpu_percent": psutil.cpu_percent(),
            **figures,
            "failures": sustained.failures[:10],
        }
        sustained_figures |= _passages(sustained.adventures, worker)
    fleet.stop(worker, web)
    return {
        "web": {
            "processes": 2,
            # (getattr: the section also measures versions from before these settings.)
            "threads": getattr(settings, "WEB_THREADS", None),
            "queue_timeout_seconds": getattr(settings, "WEB_QUEUE_TIMEOUT", None),
            "db_pool_size": getattr(settings, "WEB_DB_POOL_SIZE", None),
        },
        "worker_concurrency": int(WORKER_CONCURRENCY),
        "latencies_ms": plan.latencies,
        "burst": burst_figures,
        "sustained": sustained_figures,
        "password_hash_ms": hashes,
    }
