"""Branches against a real worker process: a decision while its branch is being
generated, and a worker killed mid-branch (issue 14)."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest
from procrastinate.contrib.django.models import ProcrastinateJob

from adventures import services
from adventures.models import DroppedBranch, Entry

from tests.support.api import client_for
from tests.support.factories import make_user
from tests.support.pipeline import run_pipeline
from tests.support.processes import wait_for
from tests.support.worker import poll_entry_complete

pytestmark = pytest.mark.django_db(transaction=True)

BRANCHES_ON = {"PREGENERATE_BRANCHES": "on", "STORY_LENGTH": "2"}


@pytest.fixture
def branches_on(settings):
    settings.PREGENERATE_BRANCHES = True
    settings.STORY_LENGTH = 2  # the branches end the story: none of their own
    return settings


def calls(log: Path) -> Counter[str]:
    """Stub calls per step (``STUB_CALL_LOG``)."""
    return Counter(log.read_text().split()) if log.exists() else Counter()


def branches_of(entry_id) -> list[Entry]:
    return list(
        Entry.objects.filter(branch_choice__entry_id=entry_id, position__isnull=True).order_by(
            "branch_choice__index"
        )
    )


def nothing_left_behind(entry_id, dropped: int) -> None:
    """No branch row of the entry left unadopted, every dropped one's spend
    kept, and no job still queued or running."""
    wait_for(
        lambda: (
            not branches_of(entry_id)
            and DroppedBranch.objects.count() == dropped
            and not ProcrastinateJob.objects.filter(status__in=("todo", "doing")).exists()
        ),
        timeout=60,
        what="the dropped branches to be discarded and every job to end",
    )


@pytest.mark.slow
def test_a_decision_while_its_branch_is_generating_adopts_it_as_it_runs(
    start_worker, tmp_path, branches_on
):
    log = tmp_path / "calls.log"
    # Generations long enough that the decision below lands in them on a
    # loaded machine too (the poll sees them all generating, then decides),
    # such as one running the suite on two processes side by side.
    worker = start_worker(STUB_LATENCY_MS="generate=10000", STUB_CALL_LOG=str(log), **BRANCHES_ON)
    learner = make_user()
    client = client_for(learner)
    adventure = client.post("/api/adventures", {"target_language": "es"}, format="json").json()
    first = poll_entry_complete(client, adventure["id"], adventure["entries"][0]["id"], worker)
    choices = first["choices"]
    # Every branch generating side by side, none waiting behind another.
    wait_for(
        lambda: [b.status for b in branches_of(first["id"])] == ["generating"] * len(choices),
        timeout=30,
        what="all branches to be generating",
    )

    response = client.post(
        f"/api/adventures/{adventure['id']}/decisions",
        {"entry_id": first["id"], "choice_id": choices[0]["id"]},
        format="json",
    )

    assert response.status_code == 201
    next_entry = response.json()["next_entry"]
    assert next_entry["position"] == 2
    assert next_entry["status"] == "generating"
    body = poll_entry_complete(client, adventure["id"], next_entry["id"], worker)
    assert body["sentences"]
    assert body["audio"] is not None
    nothing_left_behind(first["id"], dropped=len(choices) - 1)
    # One LLM call per entry and branch; the dropped ones stopped after it.
    assert calls(log)["generate"] == 1 + len(choices)
    assert calls(log)["translate"] == 2
    assert all(d.llm_output_tokens > 0 for d in DroppedBranch.objects.all())
    story = client.get(f"/api/adventures/{adventure['id']}").json()
    assert [e["id"] for e in story["entries"]] == [first["id"], next_entry["id"]]
    assert story["status"] == "completed"


@pytest.mark.slow
def test_branches_of_a_killed_worker_are_rescued_and_a_decision_meanwhile_holds(
    start_worker, tmp_path, branches_on
):
    log = tmp_path / "calls.log"
    learner = make_user()
    adventure = services.adventure_create(user=learner, target_language="es")
    first = run_pipeline(adventure.entries.get())  # here; its branches are queued
    branches = branches_of(first.id)
    assert len(branches) >= 2

    killed = start_worker(STUB_LATENCY_MS="voice=30000", STUB_CALL_LOG=str(log), **BRANCHES_ON)
    wait_for(
        lambda: all(b.generated_at for b in branches_of(first.id)),
        timeout=60,
        what="every branch to be generated",
    )
    killed.stop(signal.SIGKILL)
    assert {b.status for b in branches_of(first.id)} == {"generating"}

    # The learner decides while no worker runs: the chosen branch is adopted
    # (its job is stalled, not queued), the others are marked dropped.
    client = client_for(learner)
    choice = first.choices.get(index=1)
    response = client.post(
        f"/api/adventures/{adventure.id}/decisions",
        {"entry_id": str(first.id), "choice_id": str(choice.id)},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["next_entry"]["id"] == str(branches[1].id)
    assert response.json()["next_entry"]["status"] == "generating"

    rescuer = start_worker(
        STUB_CALL_LOG=str(log),
        WORKER_HEARTBEAT_INTERVAL="0.5",
        WORKER_STALLED_TIMEOUT="1",
        **BRANCHES_ON,
    )
    body = poll_entry_complete(client, str(adventure.id), str(branches[1].id), rescuer)
    assert body["position"] == 2
    assert body["audio"] is not None
    nothing_left_behind(first.id, dropped=len(branches) - 1)
    # The rescued runs resumed after generation: one LLM call per branch.
    assert calls(log)["generate"] == len(branches)


@pytest.mark.slow
def test_a_branch_that_fails_is_retried_like_an_entry_and_generated_once(
    start_worker, tmp_path, branches_on
):
    log = tmp_path / "calls.log"
    learner = make_user()
    adventure = services.adventure_create(user=learner, target_language="es")
    first = run_pipeline(adventure.entries.get())  # here; its branches are queued
    branches = branches_of(first.id)
    worker = start_worker(
        STUB_FAULTS=f"translate={len(branches)}",  # each branch's first translation fails
        STUB_CALL_LOG=str(log),
        PROVIDER_RETRY_TRIES="1",
        PIPELINE_RETRY_WAIT_MIN="0.05",
        PIPELINE_RETRY_JITTER="0.05",
        **BRANCHES_ON,
    )
    try:
        wait_for(
            lambda: [b.status for b in branches_of(first.id)] == ["complete"] * len(branches),
            timeout=60,
            what="every branch to complete after its retry",
        )
    except BaseException:
        print(worker.output())
        raise
    assert calls(log)["translate:fault"] == len(branches)
    assert calls(log)["generate"] == len(branches)  # the retries resumed after it
    jobs = ProcrastinateJob.objects.filter(args__entry_id__in=[str(b.id) for b in branches])
    assert [job.attempts for job in jobs] == [2] * len(branches)  # two runs each

    # Adopted complete, at once.
    response = client_for(learner).post(
        f"/api/adventures/{adventure.id}/decisions",
        {"entry_id": str(first.id), "choice_id": str(branches[0].branch_choice_id)},
        format="json",
    )
    assert response.json()["next_entry"]["status"] == "complete"
    nothing_left_behind(first.id, dropped=len(branches) - 1)
