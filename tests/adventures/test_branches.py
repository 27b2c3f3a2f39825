"""Branches generated ahead (issue 14): created when an entry completes, invisible
until a decision adopts one, the others dropped with their jobs, their spend
kept. The pipeline runs in this process with the stub providers; the races
against a real worker are in ``test_branches_worker.py``."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from procrastinate.contrib.django.models import ProcrastinateJob
from rest_framework.test import APIClient

from adventures import selectors, services
from adventures.models import Adventure, Decision, DroppedBranch, Entry, EntryEvent

from tests.support.api import client_for
from tests.support.database import truncate_jobs
from tests.support.factories import (
    make_adventure,
    make_complete_entry,
    make_decision,
    make_user,
)
from tests.support.pipeline import run_pipeline


@pytest.fixture
def branches_on(settings):
    settings.PREGENERATE_BRANCHES = True
    settings.PREGENERATE_DAILY_CAP = 100
    return settings


def queued_jobs() -> list[ProcrastinateJob]:
    """Queued pipeline jobs (entries and branches)."""
    return list(
        ProcrastinateJob.objects.filter(
            status="todo", task_name="adventures.generate_adventure_entry"
        ).order_by("id")
    )


def settle(entry: Entry) -> None:
    """What the ``settle_branches`` job the decision queued does, run here."""
    [job] = ProcrastinateJob.objects.filter(status="todo", task_name="adventures.settle_branches")
    assert job.args == {"entry_id": str(entry.id)}
    services.branches_settle(entry_id=entry.id)
    with connection.cursor() as cursor:  # (Procrastinate's models are read-only)
        cursor.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [job.id])


def first_entry_complete(user) -> tuple[Adventure, Entry]:
    adventure = services.adventure_create(user=user, target_language="es")
    truncate_jobs()  # the first entry's job: the pipeline runs here instead
    entry = run_pipeline(adventure.entries.get())
    assert entry.status == Entry.Status.COMPLETE
    return adventure, entry


def branches_of(entry: Entry) -> list[Entry]:
    return list(
        Entry.objects.filter(branch_choice__entry=entry, position__isnull=True).order_by(
            "branch_choice__index"
        )
    )


def decide(client: APIClient, adventure: Adventure, entry: Entry, index: int):
    choice = entry.choices.get(index=index)
    return client.post(
        f"/api/adventures/{adventure.id}/decisions",
        {"entry_id": str(entry.id), "choice_id": str(choice.id)},
        format="json",
    )


@pytest.mark.django_db
def test_a_complete_entry_gets_one_branch_per_choice_each_its_own_low_priority_job(
    branches_on,
):
    truncate_jobs()
    learner = make_user()
    adventure, entry = first_entry_complete(learner)
    branches = branches_of(entry)
    choices = list(entry.choices.order_by("index"))
    assert len(choices) >= 2
    assert [branch.branch_choice_id for branch in branches] == [c.id for c in choices]
    assert all(b.status == "pending" and b.position is None for b in branches)
    jobs = queued_jobs()
    assert [job.args["entry_id"] for job in jobs] == [str(b.id) for b in branches]
    # Side by side (no adventure lock), after any entry a learner waits for.
    assert {job.lock for job in jobs} == {None}
    assert {job.priority for job in jobs} == {-10}

    # The learner sees none of them, anywhere.
    client = client_for(learner)
    body = client.get(f"/api/adventures/{adventure.id}").json()
    assert [e["id"] for e in body["entries"]] == [str(entry.id)]
    for branch in branches:
        base = f"/api/adventures/{adventure.id}/entries/{branch.id}"
        assert client.get(base).status_code == 404
        assert client.post(f"{base}/retry").status_code == 404
        assert client.post(f"{base}/known").status_code == 404


@pytest.mark.django_db
def test_with_pre_generation_off_nothing_is_generated_ahead(settings):
    settings.PREGENERATE_BRANCHES = False
    truncate_jobs()
    _, entry = first_entry_complete(make_user())
    assert branches_of(entry) == []
    assert queued_jobs() == []


@pytest.mark.django_db
def test_a_branch_is_generated_as_the_story_after_its_choice(branches_on):
    _, entry = first_entry_complete(make_user())
    for branch in branches_of(entry):
        request = selectors.generation_request(entry=branch)
        assert request.position == 2
        assert request.chosen_index == branch.branch_choice.index
        assert [past.chosen for past in request.history] == [branch.branch_choice.text]


@pytest.mark.django_db
def test_an_entry_after_decisions_is_asked_for_as_the_story_after_those_choices(
    django_assert_num_queries,
):
    adventure = make_adventure(make_user())
    first = make_complete_entry(adventure, position=1)
    second = make_complete_entry(adventure, position=2)
    first_choice, second_choice = (
        first.choices.order_by("index")[1],
        second.choices.order_by("index")[0],
    )
    make_decision(first, choice=first_choice, next_entry=second)
    third = make_decision(second, choice=second_choice).next_entry
    third = Entry.objects.select_related("adventure").get(id=third.id)
    with django_assert_num_queries(3):  # the story so far, the words to weave, the placement
        request = selectors.generation_request(entry=third)
    assert request.position == 3
    assert request.chosen_index == second_choice.index == 0
    assert [past.chosen for past in request.history] == [first_choice.text, second_choice.text]
    # The first entry's own request: no choice led to it.
    assert selectors.generation_request(entry=first).chosen_index is None


@pytest.mark.django_db
def test_a_decision_adopts_its_complete_branch_and_drops_the_others(branches_on):
    truncate_jobs()
    learner = make_user()
    adventure, entry = first_entry_complete(learner)
    branches = [run_pipeline(branch) for branch in branches_of(entry)]
    assert {b.status for b in branches} == {"complete"}
    truncate_jobs()  # their jobs: the pipeline ran here instead
    assert not Entry.objects.filter(branch_choice__entry__in=branches).exists()

    response = decide(client_for(learner), adventure, entry, 1)

    assert response.status_code == 201, response.json()
    adopted = branches[1]
    assert response.json()["next_entry"] == {
        "id": str(adopted.id),
        "position": 2,
        "status": "complete",
    }
    body = client_for(learner).get(f"/api/adventures/{adventure.id}/entries/{adopted.id}").json()
    assert body["status"] == "complete"
    assert body["sentences"]
    assert body["audio"] is not None
    # The others are marked dropped at once, and discarded by a job after the
    # learner has the answer; what they cost is kept as speculative spend.
    others = [b for b in branches if b.id != adopted.id]
    assert Entry.objects.filter(
        id__in=[b.id for b in others], dropped_at__isnull=False
    ).count() == len(others)
    settle(entry)
    assert not Entry.objects.filter(id__in=[b.id for b in others]).exists()
    dropped = DroppedBranch.objects.filter(adventure=adventure)
    assert sorted(d.entry_id for d in dropped) == sorted(b.id for b in others)
    assert all(d.llm_output_tokens > 0 for d in dropped)
    # The adopted entry, complete, has its own branches queued already.
    adopted.refresh_from_db()
    assert len(branches_of(adopted)) == adopted.choices.count()
    costs = selectors.adventure_costs(adventure)
    assert costs.entries == 2
    assert costs.llm_output_tokens == entry.llm_output_tokens + adopted.llm_output_tokens
    # Speculative: the dropped ones, and the new branches (nothing spent yet).
    assert costs.speculative.entries == len(others) + len(branches_of(adopted))
    assert costs.speculative.llm_output_tokens == sum(b.llm_output_tokens for b in others)
    assert {job.args["entry_id"] for job in queued_jobs()} == {
        str(b.id) for b in branches_of(adopted)
    }
    adventure.refresh_from_db()
    assert adventure.status == "active"


@pytest.mark.django_db
def test_a_decision_before_its_branch_ran_queues_it_at_the_learners_priority(branches_on):
    truncate_jobs()
    learner = make_user()
    adventure, entry = first_entry_complete(learner)
    branches = branches_of(entry)

    response = decide(client_for(learner), adventure, entry, 0)

    assert response.status_code == 201
    assert response.json()["next_entry"] == {
        "id": str(branches[0].id),
        "position": 2,
        "status": "pending",
    }
    # One queued job: the adopted entry's, now behind the adventure's lock at
    # the default priority; the others' jobs and rows are gone.
    [job] = queued_jobs()[-1:]
    assert job.args["entry_id"] == str(branches[0].id)
    assert (job.priority, job.lock) == (0, f"adventure:{adventure.id}")
    settle(entry)
    [job] = queued_jobs()
    assert job.args["entry_id"] == str(branches[0].id)
    assert not Entry.objects.filter(id__in=[b.id for b in branches[1:]]).exists()
    assert DroppedBranch.objects.filter(adventure=adventure).count() == len(branches) - 1
    # It runs like any entry, and completes.
    adopted = run_pipeline(Entry.objects.get(id=branches[0].id))
    assert adopted.status == "complete"
    assert adopted.position == 2


@pytest.mark.django_db
def test_a_branch_in_error_is_dropped_and_the_decision_generates_the_entry(branches_on):
    truncate_jobs()
    learner = make_user()
    adventure, entry = first_entry_complete(learner)
    branches = branches_of(entry)
    services.entry_fail(entry_id=branches[0].id, detail="ProviderError: overloaded")
    truncate_jobs()

    response = decide(client_for(learner), adventure, entry, 0)

    assert response.status_code == 201
    next_entry = response.json()["next_entry"]
    assert next_entry["status"] == "pending"
    assert next_entry["id"] not in {str(b.id) for b in branches}
    settle(entry)
    assert not Entry.objects.filter(id__in=[b.id for b in branches]).exists()
    assert DroppedBranch.objects.filter(adventure=adventure).count() == len(branches)
    assert [job.args["entry_id"] for job in queued_jobs()] == [next_entry["id"]]


@pytest.mark.django_db
def test_the_daily_cap_counts_every_branch_started_today_dropped_ones_too(branches_on):
    branches_on.PREGENERATE_DAILY_CAP = 1
    truncate_jobs()
    learner = make_user()
    adventure, entry = first_entry_complete(learner)
    [branch] = branches_of(entry)  # the first choice's only
    assert branch.branch_choice.index == 0

    # The other choice has no branch: the entry is generated as without.
    response = decide(client_for(learner), adventure, entry, 1)
    assert response.status_code == 201
    assert response.json()["next_entry"]["id"] != str(branch.id)
    settle(entry)
    assert services.branches_started_today(user_id=learner.id) == 1
    second = run_pipeline(Entry.objects.get(id=response.json()["next_entry"]["id"]))
    assert branches_of(second) == []  # the cap is spent for today

    # Another learner has a cap of their own.
    _, other = first_entry_complete(make_user("bea"))
    assert len(branches_of(other)) == 1


@pytest.mark.django_db
def test_a_cap_of_zero_generates_nothing_ahead(branches_on):
    branches_on.PREGENERATE_DAILY_CAP = 0
    _, entry = first_entry_complete(make_user())
    assert branches_of(entry) == []


@pytest.mark.django_db
def test_deleting_an_adventure_takes_its_branches_and_spend_with_it(branches_on):
    learner = make_user()
    adventure, entry = first_entry_complete(learner)
    services.branch_discard(branch=branches_of(entry)[0])
    assert DroppedBranch.objects.count() == 1
    # (An adventure with a decision cannot be deleted at all today:
    # Decision.choice is PROTECT; not a branches matter.)
    adventure.delete()
    assert not Entry.objects.exists()
    assert not DroppedBranch.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_with_branches_exactly_one_wins_and_adopts_once(branches_on):
    truncate_jobs()
    user = make_user()
    adventure, entry = first_entry_complete(user)
    branches = [run_pipeline(branch) for branch in branches_of(entry)]
    choices = list(entry.choices.order_by("index"))
    attempts = 8
    barrier = threading.Barrier(attempts)
    answers: list[tuple[int, dict]] = []

    def decide_concurrently(index: int) -> None:
        client = client_for(user)
        barrier.wait()
        try:
            response = client.post(
                f"/api/adventures/{adventure.id}/decisions",
                {"entry_id": str(entry.id), "choice_id": str(choices[index % len(choices)].id)},
                format="json",
            )
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=decide_concurrently, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (attempts - 1)
    [won] = [body for status, body in answers if status == 201]
    decision = Decision.objects.get(entry=entry)
    assert str(decision.next_entry_id) == won["next_entry"]["id"]
    assert won["next_entry"]["status"] == "complete"
    assert decision.next_entry.branch_choice_id == decision.choice_id
    assert list(adventure.entries.filter(position__isnull=False).values_list("position")) == [
        (1,),
        (2,),
    ]
    settle(entry)
    assert DroppedBranch.objects.count() == len(branches) - 1
    assert not Entry.objects.filter(branch_choice__entry=entry, position__isnull=True).exists()
    truncate_jobs()


@pytest.mark.django_db
def test_the_events_stream_hears_of_a_branch_only_once_it_is_adopted(branches_on):
    truncate_jobs()
    learner = make_user()
    adventure, entry = first_entry_complete(learner)
    branches = [run_pipeline(branch) for branch in branches_of(entry)]
    truncate_jobs()
    branch_ids = {b.id for b in branches}
    # Generating them ahead made no event: the learner's story has no such entry yet.
    assert not EntryEvent.objects.filter(entry_id__in=branch_ids).exists()

    response = decide(client_for(learner), adventure, entry, 0)

    assert response.status_code == 201, response.json()
    adopted = branches[0]
    [event] = EntryEvent.objects.filter(entry_id__in=branch_ids)
    assert (event.entry_id, event.position, event.status) == (adopted.id, 2, "complete")
    # It is the newest event of the adventure: a stream resuming from before
    # the decision gets it.
    assert EntryEvent.objects.filter(adventure=adventure).latest("id") == event
