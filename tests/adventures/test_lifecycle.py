"""The entry lifecycle: every status change goes through adventures.services."""

from __future__ import annotations

import uuid

import pytest

from accounts.models import User
from adventures import services
from adventures.models import Adventure, Entry, EntryEvent
from adventures.services.lifecycle import entry_status_changed
from langlearn.errors import ConflictError
from outbound.anthropic.client import passage_tool
from outbound.roles import MAX_CHOICES, MIN_CHOICES, passage_problem

pytestmark = pytest.mark.django_db


def story(user: User, *statuses: str, final: bool = False) -> tuple[Adventure, list[Entry]]:
    adventure = Adventure.objects.create(user=user, target_language="es", native_language="en")
    entries = [
        Entry.objects.create(
            adventure=adventure,
            position=position,
            status=status,
            is_final=final and position == len(statuses),
        )
        for position, status in enumerate(statuses, start=1)
    ]
    return adventure, entries


@pytest.mark.parametrize(
    ("statuses", "final", "expected"),
    [
        (("pending",), False, "awaiting_first_entry"),
        (("generating",), False, "awaiting_first_entry"),
        (("complete",), False, "active"),
        (("complete", "pending"), False, "active"),
        (("complete", "error"), False, "error"),
        (("error",), False, "error"),
        (("complete", "complete"), True, "completed"),
    ],
)
def test_the_adventure_status_follows_its_newest_entry(learner, statuses, final, expected):
    adventure, entries = story(learner, *statuses, final=final)
    newest = Entry.objects.select_related("adventure").get(id=entries[-1].id)
    event = entry_status_changed(entry=newest)
    adventure.refresh_from_db()
    assert adventure.status == expected
    assert newest.adventure.status == expected  # the caller's copy too
    assert event is not None
    stored = EntryEvent.objects.get(id=event.id)
    assert (stored.entry_id, stored.status, stored.adventure_status) == (
        newest.id,
        newest.status,
        expected,
    )


def test_a_pipeline_run_moves_an_entry_and_its_adventure_along(learner):
    adventure, [entry] = story(learner, "pending")
    started = services.entry_start(adventure_id=adventure.id, entry_id=entry.id, user_id=learner.id)
    assert started is not None
    assert started.status == "generating"
    services.entry_complete(entry_id=entry.id)
    entry.refresh_from_db()
    adventure.refresh_from_db()
    assert (entry.status, adventure.status) == ("complete", "active")
    assert entry.completed_at is not None
    # A duplicate job finds nothing to do, and a late failure does not undo the entry.
    again = services.entry_start(adventure_id=adventure.id, entry_id=entry.id, user_id=learner.id)
    assert again is None
    services.entry_fail(entry_id=entry.id, detail="late")
    entry.refresh_from_db()
    assert entry.status == "complete"


def test_an_entry_that_is_not_the_users_is_gone(learner):
    adventure, [entry] = story(learner, "pending")
    with pytest.raises(services.EntryGone):
        services.entry_start(adventure_id=adventure.id, entry_id=entry.id, user_id=uuid.uuid4())


def test_a_failure_is_recorded_for_the_learner_and_for_staff(learner):
    adventure, [_, entry] = story(learner, "complete", "generating")
    services.entry_fail(entry_id=entry.id, detail="x" * 5000)
    entry.refresh_from_db()
    adventure.refresh_from_db()
    assert entry.status == "error"
    assert entry.error_message == services.LEARNER_ERROR_MESSAGE
    assert len(entry.error_detail) == 4000
    assert adventure.status == "error"
    services.entry_fail(entry_id=uuid.uuid4(), detail="no such entry")  # nothing to record


def test_queuing_an_entry_again_clears_its_error_and_defers_one_job(learner):
    adventure, [_, entry] = story(learner, "complete", "error")
    Entry.objects.filter(id=entry.id).update(error_message="m", error_detail="d")
    entry.refresh_from_db()
    services.entry_queue(entry=entry)
    entry.refresh_from_db()
    adventure.refresh_from_db()
    assert (entry.status, entry.error_message, entry.error_detail) == ("pending", "", "")
    assert adventure.status == "active"
    with pytest.raises(ConflictError):
        services.defer_entry_job(entry)  # already queued: one job per entry


@pytest.mark.parametrize(
    ("sentences", "choices", "final", "problem"),
    [
        (["Hola."], ["a", "b"], False, None),
        (["Hola."], [], True, None),
        ([" ", ""], ["a", "b"], False, "the passage is empty"),
        (["Hola."], ["a"], False, "expected 2-4 choices, got 1"),
        (["Hola."], ["a", "b", "c", "d", "e"], False, "expected 2-4 choices, got 5"),
        (["Hola."], ["a", " "], False, "a choice is empty"),
        (["Fin."], ["a", "b"], True, "the final passage must not offer choices"),
    ],
)
def test_passage_rules(sentences, choices, final, problem):
    assert passage_problem(sentences, choices, is_final=final) == problem


def test_the_generators_tool_schema_states_the_same_rules():
    choices = passage_tool(first=False, final=False)["input_schema"]["properties"]["choices"]
    assert (choices["minItems"], choices["maxItems"]) == (MIN_CHOICES, MAX_CHOICES)
    final = passage_tool(first=False, final=True)["input_schema"]
    assert "choices" not in final["properties"]


@pytest.mark.django_db
def test_a_story_with_decisions_is_deleted_whole_with_its_adventure_or_learner():
    from django.db.models import RestrictedError

    from adventures.models import Choice, Decision

    from tests.support.factories import (
        make_adventure,
        make_complete_entry,
        make_decision,
        make_user,
    )

    learner = make_user()
    for _ in range(2):
        adventure = make_adventure(learner)
        first = make_complete_entry(adventure, position=1)
        make_decision(first)
    # A choice a decision was made on cannot be deleted on its own...
    decided = Decision.objects.filter(entry__adventure=adventure).get().choice
    with pytest.raises(RestrictedError):
        Choice.objects.filter(id=decided.id).delete()
    # ...but the adventure it belongs to goes whole, and so does the learner.
    adventure_id = adventure.id
    adventure.delete()
    assert not Entry.objects.filter(adventure_id=adventure_id).exists()
    learner.delete()
    assert not Decision.objects.exists()
    assert not Adventure.objects.exists()
