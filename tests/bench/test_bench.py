"""The benchmark's arithmetic, its command line, and its server without deferral.

The runs themselves (``python -m bench --quick`` takes a few minutes) are left out
of the suite; docs/benchmarks.md says how to run them.
"""

from __future__ import annotations

import ast
import asyncio
import datetime
import json
import subprocess
import sys
from pathlib import Path

import procrastinate
import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from adventures.models import Adventure, Entry
from bench import results
from bench.__main__ import main
from bench.nodefer import DiscardingConnector
from bench.plan import Plan
from bench.sections.scaleout import most_in_any_window
from bench.stats import (
    critical_path_ms,
    decision_to_complete_ms,
    distribution,
    format_latencies,
    per_adopted_entry,
    percentile,
    ratio,
)
from langlearn.provider_settings import parse_latencies

from tests.support.database import truncate_jobs
from tests.support.processes import ROOT, subprocess_env

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


def test_an_entry_complete_before_the_decision_answered_counts_from_the_answer():
    # A branch generated ahead: complete long before; the learner has it with
    # the decision's answer, 40 ms after sending it.
    assert decision_to_complete_ms(100.0, 100.04, 90.0) == pytest.approx(40)
    # Generated after the decision: complete 1.8 s after it was sent.
    assert decision_to_complete_ms(100.0, 100.03, 101.8) == pytest.approx(1800)


def test_llm_calls_per_adopted_entry_leave_out_the_first_entries():
    assert per_adopted_entry(calls=10, first_entries=2, decisions=8) == 1.0
    assert per_adopted_entry(calls=26, first_entries=2, decisions=8) == 3.0
    assert per_adopted_entry(calls=2, first_entries=2, decisions=0) is None


def test_latencies_are_passed_on_in_the_spelling_settings_read():
    latencies = parse_latencies("voice=900, generate=800", STEPS)
    assert format_latencies(latencies) == "generate=800,translate=0,annotate=0,voice=900"
    assert parse_latencies(format_latencies(latencies), STEPS) == latencies


def test_calls_in_a_window_count_every_call_within_its_length_from_any_start():
    # Three calls 0.5 s apart fit a 1 s window (closed at both ends); four do not.
    assert most_in_any_window([0.0, 0.5, 1.0, 1.5], 1.0) == 3
    assert most_in_any_window([0.0, 1.01, 2.02, 3.03], 1.0) == 1
    assert most_in_any_window([3.0, 0.0, 0.1, 0.2, 3.05], 1.0) == 3  # order does not matter
    assert most_in_any_window([], 1.0) == 0


def test_scaleout_runs_one_two_and_four_workers_and_quick_runs_fewer_entries():
    quick = Plan.make(quick=True, database="langlearn_bench", latencies={"generate": 800})
    full = Plan.make(quick=False, database="langlearn_bench", latencies={"generate": 800})
    assert quick.scaleout_workers == full.scaleout_workers == (1, 2, 4)
    assert quick.scaleout_waves < full.scaleout_waves
    assert quick.limited_entries < full.limited_entries
    # The limited run asks for more than its limit: 2 workers x 8 jobs per 1.7 s.
    assert full.limited_per_second < 2 * 8 / 1.7


def test_only_pipeline_plans_that_section_alone_with_the_full_runs_stories():
    plan = Plan.make(
        quick=False, database="langlearn_bench", latencies={"generate": 800}, only="pipeline"
    )
    full = Plan.make(quick=False, database="langlearn_bench", latencies={"generate": 800})
    assert plan.only == "pipeline"
    assert full.only is None
    assert (plan.pipeline_learners, plan.pipeline_decisions) == (6, 7)


def test_only_instant_plans_that_section_alone_with_the_full_runs_learners():
    plan = Plan.make(
        quick=False, database="langlearn_bench", latencies={"generate": 800}, only="instant"
    )
    assert plan.only == "instant"
    assert (plan.instant_learners, plan.instant_decisions) == (4, 5)


def test_only_load_plans_a_classroom_and_an_afternoon_and_quick_runs_shorter():
    full = Plan.make(
        quick=False, database="langlearn_bench", latencies={"generate": 800}, only="load"
    )
    quick = Plan.make(quick=True, database="langlearn_bench", latencies={"generate": 800})
    assert full.only == "load"
    # The classroom is the hundred at once, in both.
    assert full.load_learners == quick.load_learners == 100
    assert (full.sustained_learners, full.sustained_seconds) == (300, 120.0)
    assert quick.sustained_seconds < full.sustained_seconds
    assert quick.load_decisions < full.load_decisions


def test_only_workers_kills_a_worker_with_fifty_entries_in_flight_and_quick_with_fewer():
    full = Plan.make(quick=False, database="langlearn_bench", latencies={"generate": 800})
    quick = Plan.make(quick=True, database="langlearn_bench", latencies={"generate": 800})
    plan = Plan.make(
        quick=False, database="langlearn_bench", latencies={"generate": 800}, only="workers"
    )
    assert plan.only == "workers"
    assert (full.rescue_entries, quick.rescue_entries) == (50, 16)


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--latencies", "generate=fast"], "generate must be whole milliseconds"),
        (["--latencies", "think=5"], "step one of generate, translate, annotate, voice"),
        (["--latencies", "generate=0"], "give at least one step a latency"),
        (["--database", "langlearn"], "include 'bench'"),
        (["--database", "bench; DROP"], "lowercase letters, digits and _"),
        (["--only", "api"], "invalid choice: 'api'"),
    ],
)
def test_bad_options_get_a_clear_message_and_nothing_runs(args, message):
    result = _bench(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


NO_DEFER_CLIENT = """
import json, sys
import django
django.setup()
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken
from accounts.models import User
user = User.objects.create_user(sys.argv[1], password=None)
client = APIClient()
client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
response = client.post("/api/adventures", {"target_language": "es"}, format="json")
print(json.dumps({"status": response.status_code, "body": response.json()}))
"""


def _create_adventure_under(settings_module: str, username: str, tmp_path) -> dict:
    """POST /api/adventures in a process of its own under ``settings_module``, as
    the benchmark's gunicorns run (DEBUG off), on this test run's database."""
    result = subprocess.run(
        [sys.executable, "-c", NO_DEFER_CLIENT, username],
        cwd=ROOT,
        env=subprocess_env(
            tmp_path,
            DJANGO_SETTINGS_MODULE=settings_module,
            DEBUG="false",
            SECRET_KEY="a-key-for-this-test-only",
            ALLOWED_HOSTS="testserver",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer["status"] == 201, answer
    return answer["body"]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("settings_module", "jobs"), [("langlearn.settings", 1), ("bench.settings_nodefer", 0)]
)
def test_the_no_deferral_server_does_all_the_request_does_but_queue_the_job(
    tmp_path, settings_module, jobs
):
    truncate_jobs()
    body = _create_adventure_under(settings_module, f"bench-{jobs}", tmp_path)
    assert body["status"] == "awaiting_first_entry"
    [entry] = body["entries"]
    assert entry["status"] == "pending"
    assert Entry.objects.get(id=entry["id"]).status == Entry.Status.PENDING
    assert Adventure.objects.get(id=body["id"]).status == Adventure.Status.AWAITING_FIRST_ENTRY
    assert ProcrastinateJob.objects.count() == jobs
    truncate_jobs()


def test_the_discarding_connector_numbers_jobs_and_keeps_none():
    connector = DiscardingConnector()
    app = procrastinate.App(connector=connector)

    @app.task(name="bench.noop", queueing_lock="the-same")
    def noop() -> None: ...

    # The same queueing lock each time: nothing kept, so nothing to collide with.
    ids = [noop.defer() for _ in range(3)]
    ids.append(asyncio.run(noop.defer_async()))
    assert ids == [1, 2, 3, 4]
    assert (connector.jobs, connector.events, connector.queries) == ({}, {}, [])


def test_production_settings_keep_the_real_connector():
    from procrastinate.contrib.django import app
    from procrastinate.contrib.django.django_connector import DjangoConnector

    assert isinstance(app.connector, DjangoConnector)


PRODUCT = (
    "accounts",
    "adventures",
    "vocabulary",
    "news",
    "operations",
    "outbound",
    "worker",
    "langlearn",
)


def test_the_benchmark_reaches_the_product_only_through_its_public_surfaces():
    """No private name of product code anywhere in ``bench/``; of the pipeline
    only its entry point, and nothing of its steps."""
    for path in (ROOT / "bench").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [alias.name for alias in node.names]
                if node.module.split(".")[0] not in PRODUCT:
                    continue
                assert not any(part.startswith("_") for part in node.module.split(".")), path
                assert not any(name.startswith("_") for name in names), (path, names)
                assert node.module != "adventures.steps", path
                if node.module == "adventures.pipeline":
                    assert names == ["run_entry_pipeline"], (path, names)
                if node.module == "adventures":
                    assert not {"pipeline", "steps"} & set(names), (path, names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert alias.name not in ("adventures.pipeline", "adventures.steps"), path


@pytest.mark.slow  # asks git for the commit
def test_a_saved_result_is_the_figures_with_their_date_commit_and_machine(tmp_path):
    figures = {"pipeline": {"overhead_ms_p50": 41.5}, "machine": {"cpus": 2}}
    day = datetime.date(2031, 5, 4)
    first = results.save(
        figures, section="pipeline", command=["--only", "pipeline"], directory=tmp_path, today=day
    )
    again = results.save(figures, section="pipeline", command=[], directory=tmp_path, today=day)
    every = results.save(figures, section=None, command=[], directory=tmp_path, today=day)
    assert [path.name for path in (first, again, every)] == [
        "2031-05-04-pipeline.json",
        "2031-05-04-pipeline-2.json",  # never over an earlier run's file
        "2031-05-04-all.json",
    ]
    saved = json.loads(first.read_text(encoding="utf-8"))
    assert saved["figures"] == figures
    assert saved["date"] == "2031-05-04"
    assert saved["command"] == "python -m bench --only pipeline"
    assert len(saved["commit"]) == 40  # this checkout's HEAD
    assert isinstance(saved["uncommitted_changes"], bool)
    assert set(saved["machine"]) == {"cpus", "load_average", "python_version"}
    assert len(saved["machine"]["load_average"]) == 3


def test_save_writes_what_the_run_printed(monkeypatch, tmp_path, capsys):
    import bench.__main__
    import bench.runner

    figures = {"floors": {"critical_sum_ms": 12.5}, "machine": {"cpus": 2}}
    monkeypatch.setattr(bench.runner, "run", lambda plan: figures)
    monkeypatch.setattr(results, "RESULTS", tmp_path)
    monkeypatch.setattr(results, "commit", lambda: {"commit": None, "uncommitted_changes": False})
    monkeypatch.setattr(bench.__main__.signal, "signal", lambda *args: None)
    assert main(["--quick", "--only", "floors", "--save"]) == 0
    printed = json.loads(capsys.readouterr().out)
    [path] = Path(tmp_path).glob(f"{datetime.date.today().isoformat()}-floors.json")
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["figures"] == printed == figures
    assert saved["command"] == "python -m bench --quick --only floors --save"
    assert main(["--only", "floors"]) == 0  # without --save: nothing more written
    assert len(list(tmp_path.iterdir())) == 1


@pytest.mark.slow  # asks git
def test_results_are_kept_in_the_repository():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "bench/results/2031-05-04-all.json"], cwd=ROOT
    )
    assert ignored.returncode == 1  # not ignored: results are committed
