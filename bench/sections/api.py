"""The ``api`` section: what durable deferral costs ``POST /api/adventures``.

The latency clients see, ``concurrency`` of them on keep-alive connections
(each level: ``requests`` timed requests after a warm-up, spread over the
learners; throttling out of reach; no worker running, so none takes CPU from
the servers), from two gunicorns: ``with_defer_ms`` as in production,
``without_defer_ms`` under ``bench.settings_nodefer`` (the same code, with a
connector behind ``defer`` that keeps no job: ``bench.nodefer``). The two take
turns, in ``ROUNDS`` alternating rounds, so that whatever else the machine
does weighs on both alike.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import time
from typing import Any

from ..fleet import Fleet
from ..plan import ADVENTURE, Plan, step
from ..processes import BenchError, Child
from ..stats import distribution, ratio

ROUNDS = 4


def post_load(
    port: int, tokens: list[str], *, concurrency: int, requests: int, warmup: int
) -> list[float]:
    """``warmup + requests`` POST /api/adventures from ``concurrency`` clients,
    each on its own keep-alive connection; the latencies (ms) after the warm-up."""
    body = json.dumps(ADVENTURE).encode()
    counter = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []
    stop = threading.Event()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            while not stop.is_set() and not errors:
                index = next(counter)
                if index >= warmup + requests:
                    return
                headers = {
                    "Authorization": f"Bearer {tokens[index % len(tokens)]}",
                    "Content-Type": "application/json",
                }
                started = time.perf_counter()
                connection.request("POST", "/api/adventures", body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                elapsed = (time.perf_counter() - started) * 1000
                if response.status != 201:
                    errors.append(f"answered {response.status}: {data[:300]!r}")
                elif index >= warmup:
                    latencies.append(elapsed)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        stop.set()
    if errors:
        raise BenchError(f"POST /api/adventures under load failed: {errors[0]}")
    return latencies


def _rounds(plan: Plan, servers: dict[str, Child], tokens: list[str], concurrency: int) -> dict:
    """One concurrency level: a warm-up of each server, then the alternating rounds."""
    latencies: dict[str, list[float]] = {mode: [] for mode in servers}
    for server in servers.values():
        post_load(server.port, tokens, concurrency=concurrency, requests=0, warmup=plan.api_warmup)
    for round_ in range(ROUNDS):
        order = ("without", "with") if round_ % 2 == 0 else ("with", "without")
        for mode in order:
            latencies[mode] += post_load(
                servers[mode].port,
                tokens,
                concurrency=concurrency,
                requests=plan.api_requests // ROUNDS,
                warmup=0,
            )
    return latencies


def measure(plan: Plan, fleet: Fleet, web: Child, tokens: list[str]) -> dict[str, Any]:
    """The ``api`` figures; ``web`` is the production server (kept running),
    the one without deferral is started and stopped here."""
    bare = fleet.start("web", DJANGO_SETTINGS_MODULE="bench.settings_nodefer")
    servers = {"without": bare, "with": web}
    api: dict[str, dict[str, list[float]]] = {"with": {}, "without": {}}
    for concurrency in plan.api_concurrency:
        with step(
            f"api: {plan.api_requests} POSTs from {concurrency} clients, "
            f"with and without deferral, in {ROUNDS} alternating rounds"
        ):
            for mode, latencies in _rounds(plan, servers, tokens, concurrency).items():
                api[mode][str(concurrency)] = latencies
    fleet.stop(bare)
    with_p50 = {c: distribution(ms)["p50"] for c, ms in api["with"].items()}
    return {
        "concurrency": list(plan.api_concurrency),
        "requests": plan.api_requests,
        "with_defer_ms": {c: distribution(ms) for c, ms in api["with"].items()},
        "without_defer_ms": {c: distribution(ms) for c, ms in api["without"].items()},
        "ratio_p50": {
            c: ratio(with_p50[c], distribution(api["without"][c])["p50"]) for c in api["with"]
        },
    }
