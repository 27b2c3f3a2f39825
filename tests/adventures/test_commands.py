"""Operator commands: output, --json and exit status, including bad arguments.

Most run in-process with ``call_command`` (a ``CommandError`` is exit status 1
on the command line); a few run as real ``manage.py`` processes to check the
exit status and message an operator's shell sees.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from accounts.models import User
from adventures.models import Entry
from adventures.services import defer_entry_job

from tests.support import factories
from tests.support.factories import make_adventure, make_user
from tests.support.processes import ROOT, subprocess_env

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hasher(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(name: str, *args: str, stdin: io.StringIO | None = None) -> str:
    out = io.StringIO()
    options = {"stdin": stdin} if stdin is not None else {}
    call_command(name, *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def manage(tmp_path: Path, *args: str, input: str | None = None, **env: str):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=subprocess_env(tmp_path, **env),
        input=input,
        capture_output=True,
        text=True,
        timeout=60,
    )


def make_entry(user: User, *, status: str, failed_ago: timedelta = timedelta(0)) -> Entry:
    entry = factories.make_entry(
        make_adventure(user),
        status=status,
        error_detail="ProviderError: generator timed out" if status == Entry.Status.ERROR else "",
    )
    Entry.objects.filter(id=entry.id).update(updated_at=timezone.now() - failed_ago)
    return entry


def sql(query: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        return cursor.fetchall() if cursor.description else None


# --- queue_status ----------------------------------------------------------------


@pytest.fixture
def queue(db, learner) -> dict:
    """Two queued jobs, one of them running on a worker silent for 5 minutes."""
    sql("DELETE FROM procrastinate_jobs")
    waiting = make_entry(learner, status=Entry.Status.PENDING)
    running = make_entry(learner, status=Entry.Status.GENERATING)
    waiting_job = defer_entry_job(waiting)
    running_job = defer_entry_job(running)
    [(worker_id,)] = sql(
        "INSERT INTO procrastinate_workers (last_heartbeat) "
        "VALUES (now() - interval '5 minutes') RETURNING id"
    )
    sql(
        "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s",
        [worker_id, running_job],
    )
    sql(
        "UPDATE procrastinate_events SET at = now() - interval '90 minutes' WHERE type = 'deferred'"
    )
    return {"waiting": waiting_job, "running": running_job, "worker": worker_id, "entry": running}


def test_queue_status_shows_counts_oldest_waiting_and_stalled_jobs(queue):
    out = run("queue_status")
    assert "adventure_pipeline: todo 1, doing 1" in out
    assert f"adventure_pipeline: job {queue['waiting']}, waiting 1h 30m" in out
    assert "Workers: 0 alive, 1 silent" in out
    assert "Stalled jobs: 1" in out
    assert (
        f"job {queue['running']} adventures.generate_adventure_entry on adventure_pipeline "
        f"(entry {queue['entry'].id}, attempt 1): worker {queue['worker']} last seen"
    ) in out


def test_queue_status_json_and_a_longer_stall_threshold(queue):
    report = json.loads(run("queue_status", "--json", "--stalled-after", "10m"))
    assert report["queues"] == {"adventure_pipeline": {"doing": 1, "todo": 1}}
    oldest = report["oldest_waiting"]["adventure_pipeline"]
    assert oldest["job_id"] == queue["waiting"]
    assert 90 * 60 <= oldest["age_seconds"] < 91 * 60
    assert report["stalled_jobs"] == []  # silent for 5 minutes, not 10
    assert report["workers"] == {"alive": 1, "silent": 0}


def test_queue_status_counts_stalls_as_the_rescue_does(queue, settings):
    """Without --stalled-after, a job is stalled when the rescue task would take
    it: after WORKER_STALLED_TIMEOUT seconds of silence (here 5 minutes)."""
    settings.WORKER_STALLED_TIMEOUT = 600
    assert json.loads(run("queue_status", "--json"))["stalled_jobs"] == []
    settings.WORKER_STALLED_TIMEOUT = 60
    [stalled] = json.loads(run("queue_status", "--json"))["stalled_jobs"]
    assert stalled["id"] == queue["running"]


def test_queue_status_on_an_empty_queue(db):
    sql("DELETE FROM procrastinate_jobs")
    out = run("queue_status")
    assert "(no jobs)" in out
    assert "(none waiting)" in out
    assert "Stalled jobs: none" in out


def test_queue_status_rejects_a_bad_duration(db):
    with pytest.raises(CommandError, match=r"'soon' is not a duration; use .* 30s, 30m, 2h or 1d"):
        run("queue_status", "--stalled-after", "soon")


# --- retry_failed_entries ----------------------------------------------------------


@pytest.fixture
def failures(db, learner) -> dict[str, Entry]:
    sql("DELETE FROM procrastinate_jobs")
    return {
        "old": make_entry(learner, status=Entry.Status.ERROR, failed_ago=timedelta(days=2)),
        "recent": make_entry(learner, status=Entry.Status.ERROR, failed_ago=timedelta(minutes=5)),
        "fine": make_entry(learner, status=Entry.Status.COMPLETE, failed_ago=timedelta(days=2)),
    }


def queued_entries() -> set[str]:
    return {job.args["entry_id"] for job in ProcrastinateJob.objects.filter(status="todo")}


def test_retry_all_failed_entries(failures):
    out = run("retry_failed_entries")
    assert "Re-queued 2 of 2 entries." in out
    assert queued_entries() == {str(failures["old"].id), str(failures["recent"].id)}
    assert Entry.objects.get(id=failures["old"].id).status == Entry.Status.PENDING


def test_retry_by_age(failures):
    assert "Re-queued 1 of 1 entries." in run("retry_failed_entries", "--older-than", "1d")
    assert queued_entries() == {str(failures["old"].id)}
    report = json.loads(run("retry_failed_entries", "--newer-than", "30m", "--json"))
    assert report == {"selected": 1, "requeued": [str(failures["recent"].id)], "skipped": {}}


def test_retry_one_adventure(failures):
    adventure = failures["recent"].adventure_id
    assert "Re-queued 1 of 1" in run("retry_failed_entries", "--adventure", str(adventure))
    assert queued_entries() == {str(failures["recent"].id)}


def test_retry_dry_run_changes_nothing(failures):
    out = run("retry_failed_entries", "--dry-run", "--older-than", "1h")
    assert "Dry run: 1 entries in error would be re-queued." in out
    assert f"{failures['old'].id} (adventure {failures['old'].adventure_id}, #1)" in out
    assert "ProviderError: generator timed out" in out
    assert queued_entries() == set()
    assert Entry.objects.get(id=failures["old"].id).status == Entry.Status.ERROR
    report = json.loads(run("retry_failed_entries", "--dry-run", "--json"))
    assert {row["entry_id"] for row in report["would_requeue"]} == {
        str(failures["old"].id),
        str(failures["recent"].id),
    }


def test_retry_with_nothing_to_do(failures):
    run("retry_failed_entries")
    assert run("retry_failed_entries") == "No entries in error match; nothing to retry.\n"


def test_retry_bad_arguments(failures):
    with pytest.raises(CommandError, match="No adventure with id"):
        run("retry_failed_entries", "--adventure", str(uuid.uuid4()))
    with pytest.raises(CommandError, match="--older-than must be shorter than --newer-than"):
        run("retry_failed_entries", "--older-than", "2h", "--newer-than", "1h")
    with pytest.raises(CommandError, match="invalid UUID value: 'abc'"):
        run("retry_failed_entries", "--adventure", "abc")
    assert queued_entries() == set()


# --- create_learner ----------------------------------------------------------------


def test_create_learner_from_a_password_file(db, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("a-long-passphrase\n")
    out = run("create_learner", "--username", "maria", "--password-file", str(secret))
    user = User.objects.get(username="maria")
    assert out == f"Created learner maria ({user.id}).\n"
    assert authenticate(username="maria", password="a-long-passphrase") == user
    assert not user.is_staff
    assert user.native_language == "en"


def test_create_staff_from_stdin_as_json(db):
    out = run(
        "create_learner",
        "--username",
        "olga",
        "--password-stdin",
        "--staff",
        "--native-language",
        "de",
        "--json",
        stdin=io.StringIO("another-long-passphrase\n"),
    )
    created = json.loads(out)
    user = User.objects.get(username="olga")
    assert created == {
        "id": str(user.id),
        "username": "olga",
        "native_language": "de",
        "is_staff": True,
        "is_superuser": False,
    }
    assert user.check_password("another-long-passphrase")


def test_create_learner_from_the_environment(db, monkeypatch):
    monkeypatch.setenv("LEARNER_PASSWORD", "env-long-passphrase")
    assert "Created superuser root" in run("create_learner", "--username", "root", "--superuser")
    assert User.objects.get(username="root").is_superuser


def test_create_learner_refusals(db, monkeypatch, tmp_path):
    with pytest.raises(CommandError, match="No password: use --password-file, --password-stdin"):
        run("create_learner", "--username", "x")
    monkeypatch.setenv("LEARNER_PASSWORD", "12345")
    with pytest.raises(CommandError, match="password: This password is too short"):
        run("create_learner", "--username", "x")
    monkeypatch.setenv("LEARNER_PASSWORD", "a-long-passphrase")
    with pytest.raises(CommandError, match="--native-language 'xx' is not supported"):
        run("create_learner", "--username", "x", "--native-language", "xx")
    make_user("taken")
    with pytest.raises(CommandError, match="username: A user with that username already exists"):
        run("create_learner", "--username", "taken")
    with pytest.raises(CommandError, match="Cannot read --password-file: No such file"):
        run("create_learner", "--username", "x", "--password-file", str(tmp_path / "nope"))
    assert not User.objects.filter(username="x").exists()


# --- The exit status an operator's shell sees -----------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_exit_status_of_real_command_processes(tmp_path):
    created = manage(
        tmp_path,
        "create_learner",
        "--username",
        "piped",
        "--password-stdin",
        input="piped-long-passphrase\n",
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("Created learner piped (")

    again = manage(tmp_path, "create_learner", "--username", "piped", LEARNER_PASSWORD="x" * 12)
    assert again.returncode == 1
    assert "CommandError: username: A user with that username already exists." in again.stderr
    assert "Traceback" not in again.stderr

    usage = manage(tmp_path, "retry_failed_entries", "--older-than", "soon")
    assert usage.returncode == 2
    assert "argument --older-than: 'soon' is not a duration" in usage.stderr

    missing = manage(tmp_path, "create_learner")
    assert missing.returncode == 2
    assert "the following arguments are required: --username" in missing.stderr

    status = manage(tmp_path, "queue_status", "--json")
    assert status.returncode == 0, status.stderr
    assert set(json.loads(status.stdout)) == {
        *("queues", "oldest_waiting", "stalled_jobs", "workers", "review_words_24h", "digest")
    }


# --- embedded_db ---------------------------------------------------------------------


@pytest.mark.slow
def test_embedded_db_refuses_when_database_url_is_set(tmp_path):
    result = manage(
        tmp_path, "embedded_db", "status", DATABASE_URL="postgresql://u@127.0.0.1:9/langlearn"
    )
    assert result.returncode == 1
    assert "DATABASE_URL is set, so this project uses that PostgreSQL server" in result.stderr


@pytest.fixture
def own_data_dir() -> Iterator[Path]:
    """A data folder beside the suite's (the server's own user must reach it)."""
    path = Path(tempfile.mkdtemp(prefix="test-embedded-", dir=ROOT / ".data"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
def test_embedded_db_status_start_and_stop(tmp_path, own_data_dir):
    """On a data folder of its own, so the suite's server is left alone."""
    # Embedded even when the suite itself runs against DATABASE_URL.
    env = {"LANGLEARN_DATA_DIR": str(own_data_dir), "DATABASE_URL": ""}
    data = own_data_dir / "postgres"
    try:
        before = manage(tmp_path, "embedded_db", "status", **env)
        assert before.stdout == f"Stopped (not initialised); data in {data}.\n"
        started = manage(tmp_path, "embedded_db", "start", **env)
        assert started.returncode == 0, started.stderr
        assert started.stdout == f"Running; socket in {data}.\n"
        running = manage(tmp_path, "embedded_db", "status", **env)
        assert running.stdout.startswith("Running (pid ")
    finally:
        stopped = manage(tmp_path, "embedded_db", "stop", **env)
    assert stopped.stdout == "Stopped.\n"
    after = manage(tmp_path, "embedded_db", "status", **env)
    assert after.stdout == f"Stopped (initialised); data in {data}.\n"
    assert (
        manage(tmp_path, "embedded_db", "stop", **env).stdout == "Not running; nothing to stop.\n"
    )
    bad = manage(tmp_path, "embedded_db", "restart", **env)
    assert bad.returncode == 2
    assert "invalid choice: 'restart'" in bad.stderr


def test_adventure_costs_shows_the_story_and_its_speculative_spend():
    from adventures.models import DroppedBranch

    adventure = make_adventure(make_user())
    entry = factories.make_complete_entry(adventure, llm_input_tokens=300, llm_output_tokens=90)
    DroppedBranch.objects.create(
        adventure=adventure,
        entry_id=uuid.uuid4(),
        status="complete",
        branch_created_at=entry.created_at,
        llm_input_tokens=310,
        llm_output_tokens=95,
        translated_characters=200,
        audio_seconds="9.250",
    )
    out = io.StringIO()
    call_command("adventure_costs", str(adventure.id), "--json", stdout=out)
    costs = json.loads(out.getvalue())[str(adventure.id)]
    assert (costs["entries"], costs["llm_input_tokens"], costs["llm_output_tokens"]) == (1, 300, 90)
    speculative = costs["speculative"]
    assert speculative["entries"] == 1
    assert speculative["llm_output_tokens"] == 95
    assert speculative["audio_seconds"] == "9.250"

    out = io.StringIO()
    call_command("adventure_costs", str(adventure.id), stdout=out)
    assert "speculative  1 entries, LLM tokens 310 in / 95 out" in out.getvalue()

    with pytest.raises(CommandError, match="No adventure with id"):
        call_command("adventure_costs", str(uuid.uuid4()), stdout=io.StringIO())
