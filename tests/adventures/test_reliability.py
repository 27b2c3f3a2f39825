"""The worker's guarantees (PRODUCT.md, "The worker"), each against a real
worker process and a real PostgreSQL, with faults injected into the stubs."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from adventures.models import Adventure, Entry
from adventures.services import LEARNER_ERROR_MESSAGE, adventure_create

from tests.support.api import client_for
from tests.support.factories import make_user
from tests.support.processes import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

# Job retries only (no retry inside the step), with short waits.
FAST_RETRIES = {
    "PROVIDER_RETRY_TRIES": "1",
    "PIPELINE_MAX_ATTEMPTS": "3",
    "PIPELINE_RETRY_WAIT_MIN": "0.05",
    "PIPELINE_RETRY_MULTIPLIER": "1",
    "PIPELINE_RETRY_JITTER": "0.05",
    "WORKER_POLLING_INTERVAL": "0.2",
}


def calls(log: Path) -> Counter[str]:
    """Stub calls per step: ``step`` answered, ``step:fault`` failed by a drill."""
    return Counter(log.read_text().split()) if log.exists() else Counter()


def start_adventure(language: str = "es"):
    client = client_for(make_user())
    body = client.post("/api/adventures", {"target_language": language}, format="json").json()
    return client, body["id"], body["entries"][0]["id"]


def entry_reaches(entry_id: str, status: str, worker, timeout: float = 60) -> Entry:
    def reached():
        entry = Entry.objects.get(id=entry_id)
        return entry if entry.status == status else None

    try:
        return wait_for(reached, timeout=timeout, what=f"entry to be {status}")
    except BaseException:
        print(worker.output())
        raise


def job_of(entry_id: str) -> ProcrastinateJob:
    jobs = ProcrastinateJob.objects.filter(task_name="adventures.generate_adventure_entry")
    [job] = [j for j in jobs if j.args["entry_id"] == entry_id]
    return job


def job_ends(entry_id: str, status: str) -> ProcrastinateJob:
    """The entry's job once Procrastinate has recorded how it ended: the worker
    commits the entry's last state a moment before it finishes the job."""
    return wait_for(
        lambda: (job := job_of(entry_id)).status == status and job,
        timeout=30,
        what=f"the job of entry {entry_id} to be {status}",
    )


def test_transient_failures_are_retried_and_generation_is_paid_once(start_worker, tmp_path):
    log = tmp_path / "calls.log"
    worker = start_worker(STUB_FAULTS="translate=2", STUB_CALL_LOG=str(log), **FAST_RETRIES)
    _, _, entry_id = start_adventure()
    entry = entry_reaches(entry_id, "complete", worker)
    assert entry.sentences.exclude(translation="").count() == entry.sentences.count()
    # Two failed translations, then success; the steps that had succeeded
    # (generation above all) were not repeated by the retries.
    assert calls(log) == {
        "generate": 1,
        "translate:fault": 2,
        "translate": 1,
        "annotate": 1,
        "voice": entry.sentences.count(),  # one call per sentence
    }
    job = job_ends(entry_id, "succeeded")
    assert job.attempts == 3  # runs: two failed, one succeeded


def test_a_permanent_failure_is_not_retried_and_a_learner_retry_resumes(start_worker, tmp_path):
    log = tmp_path / "calls.log"
    worker = start_worker(STUB_FAULTS="voice=1:permanent", STUB_CALL_LOG=str(log), **FAST_RETRIES)
    client, adventure_id, entry_id = start_adventure()
    failed = entry_reaches(entry_id, "error", worker)
    assert failed.error_message == LEARNER_ERROR_MESSAGE
    assert "stub-voice" in failed.error_detail
    assert "permanent" in failed.error_detail
    assert Adventure.objects.get(id=adventure_id).status == "error"
    job_ends(entry_id, "failed")
    assert calls(log)["voice:fault"] == 1  # no second attempt
    body = client.get(f"/api/adventures/{adventure_id}/entries/{entry_id}").json()
    assert body["status"] == "error"
    assert body["error"] == LEARNER_ERROR_MESSAGE

    # The fault is gone (it was the first call only); the learner retries.
    assert (
        client.post(f"/api/adventures/{adventure_id}/entries/{entry_id}/retry").status_code == 202
    )
    entry = entry_reaches(entry_id, "complete", worker)
    assert Adventure.objects.get(id=adventure_id).status == "active"
    voiced = calls(log)
    assert {step: voiced[step] for step in ("generate", "translate", "annotate")} == {
        "generate": 1,
        "translate": 1,
        "annotate": 1,
    }
    assert voiced["voice:fault"] == 1
    # The retry voiced every sentence; the failed run may have voiced some
    # before the fault cancelled the rest (a failed step keeps nothing).
    sentences = entry.sentences.count()
    assert sentences <= voiced["voice"] <= 2 * sentences - 1


def test_when_attempts_run_out_the_entry_is_error(start_worker, tmp_path):
    log = tmp_path / "calls.log"
    worker = start_worker(STUB_FAULTS="annotate=99", STUB_CALL_LOG=str(log), **FAST_RETRIES)
    client, adventure_id, entry_id = start_adventure()
    entry = entry_reaches(entry_id, "error", worker)
    assert entry.error_message == LEARNER_ERROR_MESSAGE
    assert "injected fault 3/99" in entry.error_detail
    assert calls(log)["annotate:fault"] == 3
    assert calls(log)["generate"] == 1
    job = job_ends(entry_id, "failed")
    assert job.attempts == 3
    adventure = client.get(f"/api/adventures/{adventure_id}").json()
    assert adventure["status"] == "error"


def test_a_job_of_a_killed_worker_is_rescued_and_completes(start_worker, tmp_path):
    log = tmp_path / "calls.log"
    first = start_worker(STUB_LATENCY_MS="voice=30000", STUB_CALL_LOG=str(log))
    _, _, entry_id = start_adventure()
    # Kill the worker once it has generated the passage and is voicing it.
    wait_for(
        lambda: Entry.objects.filter(id=entry_id, generated_at__isnull=False).exists(),
        timeout=60,
        what="generation",
    )
    first.stop(signal.SIGKILL)
    assert job_of(entry_id).status == "doing"
    assert Entry.objects.get(id=entry_id).status == "generating"

    second = start_worker(
        STUB_CALL_LOG=str(log), WORKER_HEARTBEAT_INTERVAL="0.5", WORKER_STALLED_TIMEOUT="1"
    )
    entry = entry_reaches(entry_id, "complete", second)
    assert entry.audio.duration_ms > 0
    assert calls(log)["generate"] == 1  # the rescued run resumed after generation
    job_ends(entry_id, "succeeded")
    assert not Entry.objects.filter(status="generating").exists()


RESCUE_DEADLINE = 35  # seconds from a new worker's start (docs/operations.md)


def test_every_entry_a_killed_worker_held_completes_within_35_s_of_a_new_worker(
    start_worker, tmp_path
):
    """50 entries in flight, the worker killed while voicing them all: on the
    default timeouts a new worker completes all 50 within 35 s of its start,
    each passage written, translated and annotated once."""
    log = tmp_path / "calls.log"
    first = start_worker(
        STUB_LATENCY_MS="voice=60000", STUB_CALL_LOG=str(log), WORKER_CONCURRENCY="50"
    )
    user = make_user()
    entry_ids = [
        adventure_create(user=user, target_language="es").entries.get().id for _ in range(50)
    ]
    held = Entry.objects.filter(
        id__in=entry_ids, annotated_at__isnull=False, translated_at__isnull=False
    )
    try:
        wait_for(lambda: held.count() == 50, timeout=120, what="50 entries to reach the voice")
    except BaseException:
        print(first.output()[-5000:])
        raise
    first.stop(signal.SIGKILL)
    assert Entry.objects.filter(id__in=entry_ids, status="generating").count() == 50

    started = time.monotonic()
    second = start_worker(STUB_CALL_LOG=str(log))
    done = Entry.objects.filter(id__in=entry_ids, status="complete")
    try:
        wait_for(lambda: done.count() == 50, timeout=120, what="50 entries to complete")
    except BaseException:
        print(second.output()[-5000:])
        raise
    elapsed = time.monotonic() - started
    print(f"all 50 entries of the killed worker complete {elapsed:.1f} s after the new worker")
    assert elapsed <= RESCUE_DEADLINE, second.output()[-3000:]
    counted = calls(log)
    # Paid once: the rescued runs resumed at the voice.
    assert (counted["generate"], counted["translate"], counted["annotate"]) == (50, 50, 50)
    sentences = sum(Entry.objects.get(id=e).sentences.count() for e in entry_ids)
    assert counted["voice"] == sentences  # every sentence voiced once, by the new worker
    assert "rescued stalled job" in second.output()


def test_a_live_worker_whose_heartbeat_is_late_keeps_its_entry(start_worker, tmp_path):
    """A rescue that mistakes a live, busy worker for a dead one (its heartbeat
    late) queues its job again; the second run finds the entry's lock held and
    leaves the entry to the first, which completes it: nothing is paid twice."""
    log = tmp_path / "calls.log"
    # Heartbeats only every 30 s: to a rescuer expecting one each 0.5 s, dead.
    # Its voice takes 30 s: time enough for the rescuer to start on a busy machine.
    slow = start_worker(
        STUB_LATENCY_MS="voice=30000",
        STUB_CALL_LOG=str(log),
        WORKER_HEARTBEAT_INTERVAL="30",
        WORKER_STALLED_TIMEOUT="60",
    )
    _, _, entry_id = start_adventure()
    wait_for(
        lambda: Entry.objects.filter(id=entry_id, generated_at__isnull=False).exists(),
        timeout=60,
        what="generation",
    )
    rescuer = start_worker(
        STUB_CALL_LOG=str(log), WORKER_HEARTBEAT_INTERVAL="0.5", WORKER_STALLED_TIMEOUT="1"
    )
    wait_for(
        lambda: "is already being generated; skipping" in rescuer.output(),
        timeout=60,
        what="the second run to step aside",
    )
    entry = entry_reaches(entry_id, "complete", slow)
    assert calls(log) == {
        "generate": 1,
        "translate": 1,
        "annotate": 1,
        "voice": entry.sentences.count(),
    }
    assert f"rescued stalled job {job_of(entry_id).id}" in rescuer.output()


def test_sigterm_lets_a_running_job_finish(start_worker):
    worker = start_worker(STUB_LATENCY_MS="voice=1500", WORKER_SHUTDOWN_TIMEOUT="30")
    _, _, entry_id = start_adventure()
    wait_for(lambda: Entry.objects.filter(id=entry_id, status="generating").exists(), timeout=60)
    assert worker.stop(signal.SIGTERM) == 0
    assert Entry.objects.get(id=entry_id).status == "complete"
    assert job_of(entry_id).status == "succeeded"


def test_a_job_cut_off_by_shutdown_is_retried_not_lost(start_worker):
    first = start_worker(STUB_LATENCY_MS="voice=30000", WORKER_SHUTDOWN_TIMEOUT="0.5")
    _, _, entry_id = start_adventure()
    wait_for(lambda: Entry.objects.filter(id=entry_id, status="generating").exists(), timeout=60)
    first.stop(signal.SIGTERM)
    assert job_of(entry_id).status == "todo"
    second = start_worker()
    entry_reaches(entry_id, "complete", second)


def test_no_second_job_can_join_an_entry_waiting_for_its_retry(start_worker, tmp_path):
    """The queueing-lock trap: a failed job going back to ``todo`` must never
    find another queued job of its entry holding the lock. New jobs are only
    deferred for new entries and entries in ``error``, and an entry waiting for
    a retry is not in error."""
    from adventures.services import defer_entry_job
    from langlearn.errors import ConflictError

    log = tmp_path / "calls.log"
    retries = {**FAST_RETRIES, "PIPELINE_RETRY_WAIT_MIN": "2", "PIPELINE_RETRY_JITTER": "0"}
    worker = start_worker(STUB_FAULTS="translate=1", STUB_CALL_LOG=str(log), **retries)
    client, adventure_id, entry_id = start_adventure()
    wait_for(lambda: calls(log)["translate:fault"] == 1, timeout=60, what="the first failure")
    wait_for(lambda: job_of(entry_id).status == "todo", timeout=30, what="the retry to be queued")

    response = client.post(f"/api/adventures/{adventure_id}/entries/{entry_id}/retry")
    assert response.status_code == 409
    with pytest.raises(ConflictError):
        defer_entry_job(Entry.objects.select_related("adventure").get(id=entry_id))

    entry_reaches(entry_id, "complete", worker)
    job_ends(entry_id, "succeeded")  # still exactly one job (job_of finds exactly one)


def test_transient_failures_are_first_retried_inside_the_step(start_worker, tmp_path):
    log = tmp_path / "calls.log"
    worker = start_worker(
        STUB_FAULTS="translate=2", STUB_CALL_LOG=str(log), PROVIDER_RETRY_WAIT_MIN="0.05"
    )
    _, _, entry_id = start_adventure()
    entry = entry_reaches(entry_id, "complete", worker)
    assert calls(log) == {
        "generate": 1,
        "translate:fault": 2,
        "translate": 1,
        "annotate": 1,
        "voice": entry.sentences.count(),
    }
    assert job_ends(entry_id, "succeeded").attempts == 1  # no job retry was needed
    assert "translate failed (try 2 of 5), trying again in" in worker.output()


def test_a_retry_due_before_the_next_poll_runs_when_it_is_due(start_worker, tmp_path):
    log = tmp_path / "calls.log"
    worker = start_worker(
        STUB_FAULTS="translate=1",
        STUB_CALL_LOG=str(log),
        **{
            **FAST_RETRIES,
            "PIPELINE_RETRY_WAIT_MIN": "0.5",
            "PIPELINE_RETRY_JITTER": "0",
            "WORKER_POLLING_INTERVAL": "60",
        },
    )
    _, _, entry_id = start_adventure()
    wait_for(lambda: calls(log)["translate:fault"] == 1, timeout=60, what="the first failure")
    failed_at = time.monotonic()
    # Due 0.5 s after the failure; the next poll would be 60 s later.
    entry_reaches(entry_id, "complete", worker, timeout=20)
    assert time.monotonic() - failed_at < 20
    assert job_ends(entry_id, "succeeded").attempts == 2


def test_a_fault_storm_on_default_settings(start_worker, tmp_path):
    """100 entries, 30 % of every provider's calls failing transiently: all
    complete on the default retry settings, and each passage is written once."""
    log = tmp_path / "calls.log"
    worker = start_worker(
        STUB_FAULTS="generate=30%,translate=30%,annotate=30%,voice=30%",
        STUB_FAULT_SEED="11",
        STUB_CALL_LOG=str(log),
    )
    user = make_user()
    entry_ids = [
        adventure_create(user=user, target_language="es").entries.get().id for _ in range(100)
    ]
    try:
        wait_for(
            lambda: Entry.objects.filter(id__in=entry_ids, status="complete").count() == 100,
            timeout=240,
            what="100 entries to complete",
        )
    except BaseException:
        print(worker.output()[-5000:])
        raise
    counted = calls(log)
    assert counted["generate"] == 100  # the LLM answered (and was paid) once per entry
    assert counted["translate:fault"] > 10  # the storm did blow
    assert not Entry.objects.filter(id__in=entry_ids, status="error").exists()


def test_a_worker_without_the_rescue_queue_says_so(start_worker):
    lone = start_worker(WORKER_QUEUES="adventure_pipeline")
    wait_for(lambda: "Starting worker on" in lone.output(), timeout=60, what="the worker")
    assert "this worker does not serve the 'maintenance' queue" in lone.output()
    assert "rescuing the jobs of workers silent" not in lone.output()
    # Each periodic task registered once (the nightly news digest).
    assert lone.output().count("Registering task news.nightly_digest") == 1
    both = start_worker()
    wait_for(lambda: "Starting worker on" in both.output(), timeout=60, what="the worker")
    assert "does not serve" not in both.output()
    # The rescue runs beside the jobs of a worker serving the maintenance queue.
    assert both.output().count("rescuing the jobs of workers silent for 20.0s") == 1
