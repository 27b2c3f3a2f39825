"""The benchmark's arithmetic, its command line, and its benchmark-only switch.

The runs themselves (``python -m bench --quick`` takes about 40 s) are left out
of the suite; the README says how to run them.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from adventures.models import Adventure, Entry
from bench.stats import critical_path_ms, distribution, format_latencies, percentile, ratio
from langlearn.env import parse_latencies

from tests.support.processes import ROOT

STEPS = ("generate", "translate", "annotate", "voice")


def test_percentiles_interpolate_between_ranks_like_numpy():
    samples = list(range(1, 101))  # 1..100, shuffled order must not matter
    samples.reverse()
    assert percentile(samples, 50) == 50.5
    assert percentile(samples, 99) == pytest.approx(99.01)
    assert percentile(samples, 0) == 1
    assert percentile(samples, 100) == 100
    assert percentile([7.0], 99) == 7.0


def test_percentile_refuses_what_it_cannot_compute():
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile([1.0], 101)


def test_a_distribution_is_p50_p95_p99_and_max():
    figures = distribution([1.0, 2.0, 3.0, 4.0, 100.0])
    assert list(figures) == ["p50", "p95", "p99", "max"]
    assert figures == {"p50": 3.0, "p95": 80.8, "p99": 96.16, "max": 100.0}


def test_ratios_against_a_zero_baseline_are_null():
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(1.0, 3.0, 3) == 0.333
    assert ratio(1.0, 0.0) is None


def test_the_critical_path_is_generation_then_the_slowest_other_step():
    latencies = parse_latencies("generate=800,translate=150,annotate=30,voice=900", STEPS)
    assert critical_path_ms(latencies) == 1700
    assert critical_path_ms(parse_latencies("generate=100,annotate=40", STEPS)) == 140
    assert critical_path_ms(parse_latencies("", STEPS)) == 0


def test_latencies_are_passed_on_in_the_spelling_settings_read():
    latencies = parse_latencies("voice=900, generate=800", STEPS)
    assert format_latencies(latencies) == "generate=800,translate=0,annotate=0,voice=900"
    assert parse_latencies(format_latencies(latencies), STEPS) == latencies


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--latencies", "generate=fast"], "generate must be whole milliseconds"),
        (["--latencies", "think=5"], "step one of generate, translate, annotate, voice"),
        (["--latencies", "generate=0"], "give at least one step a latency"),
        (["--database", "langlearn"], "include 'bench'"),
        (["--database", "bench; DROP"], "lowercase letters, digits and _"),
    ],
)
@pytest.mark.slow
def test_bad_options_get_a_clear_message_and_nothing_runs(args, message):
    result = _bench(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def _settings_load(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "langlearn.settings",
            "SECRET_KEY": "a-key-for-this-test-only",
            "ALLOWED_HOSTS": "example.org",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
def test_disabling_deferral_is_refused_in_production_settings():
    refused = _settings_load(DEBUG="false", BENCH_DISABLE_DEFER="true")
    assert refused.returncode != 0
    assert "BENCH_DISABLE_DEFER is for benchmarks only" in refused.stderr

    assert _settings_load(DEBUG="false").returncode == 0
    allowed = _settings_load(
        DEBUG="false", BENCH_DISABLE_DEFER="true", BENCH_ALLOW_WITHOUT_DEBUG="true"
    )
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(("disabled", "jobs"), [(False, 1), (True, 0)])
def test_the_benchmark_switch_only_skips_the_job(api, settings, disabled, jobs):
    settings.BENCH_DISABLE_DEFER = disabled
    response = api.post("/api/adventures", {"target_language": "es"}, format="json")
    assert response.status_code == 201, response.content
    assert Adventure.objects.get().status == Adventure.Status.AWAITING_FIRST_ENTRY
    assert Entry.objects.get().status == Entry.Status.PENDING
    assert ProcrastinateJob.objects.count() == jobs
