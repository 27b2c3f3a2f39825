"""Pure helpers: distributions, ratios and the pipeline's critical path."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

PERCENTILES = (50, 95, 99)


def percentile(samples: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile of ``samples``, interpolating linearly between ranks.

    Same definition as numpy's default (and ``statistics.quantiles`` with
    ``method="inclusive"``): p0 is the minimum, p100 the maximum.
    """
    if not samples:
        raise ValueError("no samples")
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be between 0 and 100, not {pct}")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def distribution(samples: Sequence[float], digits: int = 2) -> dict[str, float]:
    """``{"p50", "p95", "p99", "max"}`` of ``samples``, rounded."""
    figures = {f"p{pct}": percentile(samples, pct) for pct in PERCENTILES}
    figures["max"] = max(samples)
    return {key: round(value, digits) for key, value in figures.items()}


def ratio(value: float, baseline: float, digits: int = 2) -> float | None:
    """``value / baseline``; None when the baseline is zero (nothing to compare to)."""
    if baseline <= 0:
        return None
    return round(value / baseline, digits)


def critical_path_ms(latencies: Mapping[str, int]) -> int:
    """Generate first, then translate, annotate and voice side by side.

    The voice is one call per sentence, ``VOICE_CONCURRENCY`` (4) at a time:
    the stub passages have at most 4 sentences, so with the default they are
    all voiced at once and the voice step lasts one call's latency.
    """
    return latencies.get("generate", 0) + max(
        latencies.get(step, 0) for step in ("translate", "annotate", "voice")
    )


def format_latencies(latencies: Mapping[str, int]) -> str:
    """The ``STUB_LATENCY_MS`` spelling of ``latencies`` (the inverse of parsing it)."""
    return ",".join(f"{step}={ms}" for step, ms in latencies.items())


def decision_to_complete_ms(decided_at: float, answered_at: float, completed_at: float) -> float:
    """When the learner has the next entry complete, from sending the decision:
    the decision's answer if the entry was complete by then (a branch generated
    ahead), else the entry's completion. Wall-clock seconds in, ms out."""
    return (max(answered_at, completed_at) - decided_at) * 1000


def per_adopted_entry(calls: int, first_entries: int, decisions: int) -> float | None:
    """LLM calls per entry a decision led to: every generation but the
    stories' first entries (which no decision leads to), over the decisions."""
    if decisions <= 0:
        return None
    return round((calls - first_entries) / decisions, 2)
