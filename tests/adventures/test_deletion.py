"""Deleting a story: ``DELETE /api/adventures/{id}``, its rows, its queued
and running jobs, its audio files, and what it cost."""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from accounts.models import User
from adventures import services
from adventures.models import (
    Adventure,
    Audio,
    Choice,
    Decision,
    DeletedSpend,
    DroppedBranch,
    Entry,
    EntryEvent,
    Sentence,
    Token,
)
from outbound import factory
from vocabulary.models import Word

from tests.support.api import client_for
from tests.support.factories import make_adventure, make_complete_entry, make_decision, make_user
from tests.support.fakes import bunny as fake_bunny
from tests.support.processes import wait_for
from tests.support.worker import poll_entry_complete


def story_with_audio(user, media: Path) -> Adventure:
    """Two passages read aloud (their files in storage), a decision between
    them, a dropped branch's spend, and a word saved from the first."""
    adventure = make_adventure(user, theme="the sea")
    first = make_complete_entry(adventure, llm_input_tokens=900, llm_output_tokens=300)
    second = make_complete_entry(adventure, position=2, llm_input_tokens=1000)
    make_decision(first, next_entry=second)
    DroppedBranch.objects.create(
        adventure=adventure,
        entry_id=second.id,
        status="complete",
        branch_created_at=timezone.now(),
        llm_input_tokens=500,
        audio_seconds=Decimal("2.5"),
    )
    EntryEvent.objects.create(
        adventure=adventure, entry_id=first.id, position=1, status="complete",
        adventure_status="active",
    )  # fmt: skip
    for audio in Audio.objects.filter(entry__adventure=adventure):
        path = media / audio.file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF-the-passage-read-aloud")
    Word.objects.create(user=user, language="es", lemma="pescador", entry=first)
    return adventure


@pytest.mark.django_db
def test_a_learner_deletes_a_story_and_everything_under_it_goes(
    settings, django_capture_on_commit_callbacks
):
    media = Path(settings.MEDIA_ROOT)
    ana = make_user()
    adventure = story_with_audio(ana, media)
    folder = media / "audio" / str(adventure.id)
    assert len(list(folder.iterdir())) == 2
    entries = list(Entry.objects.filter(adventure=adventure).values_list("id", flat=True))
    client = client_for(ana)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"/api/adventures/{adventure.id}")

    assert response.status_code == 204
    assert response.content == b""
    assert client.get(f"/api/adventures/{adventure.id}").status_code == 404
    assert client.get("/api/adventures").json()["count"] == 0
    for model in (Entry, Sentence, Choice, Token, Audio, Decision):
        assert not model.objects.filter(
            **({"id__in": entries} if model is Entry else {"entry_id__in": entries})
        ).exists(), model
    assert not EntryEvent.objects.filter(adventure_id=adventure.id).exists()
    assert not DroppedBranch.objects.filter(adventure_id=adventure.id).exists()
    # The audio files and the story's folder are gone from storage.
    assert not folder.exists()
    # The word stays, without the passage it was saved from.
    word = Word.objects.get(user=ana, lemma="pescador")
    assert word.entry_id is None
    # The spend stays in the operator's figures, without the story.
    spend = DeletedSpend.objects.get(day=timezone.now().date())
    assert spend.adventures == 1
    assert spend.entries == 3  # two passages and the dropped branch
    assert spend.llm_input_tokens == 900 + 1000 + 500
    assert spend.llm_output_tokens == 300
    assert spend.audio_seconds == Decimal("2.5")


@pytest.mark.django_db
def test_deleting_a_story_twice_or_another_learners_is_404(
    settings, django_capture_on_commit_callbacks
):
    media = Path(settings.MEDIA_ROOT)
    ana, ben = make_user(), make_user("ben")
    bens = story_with_audio(ben, media)
    client = client_for(ana)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"/api/adventures/{bens.id}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Adventure not found.", "code": "not_found"}
    assert Adventure.objects.filter(id=bens.id).exists()
    assert len(list((media / "audio" / str(bens.id)).iterdir())) == 2

    own = client.post("/api/adventures", {"target_language": "es"}, format="json").json()
    assert client.delete(f"/api/adventures/{own['id']}").status_code == 204
    again = client.delete(f"/api/adventures/{own['id']}")
    assert again.status_code == 404
    assert again.json()["code"] == "not_found"
    assert client.delete("/api/adventures/not-a-uuid").status_code == 404


@pytest.mark.django_db
def test_staff_deleting_stories_in_the_admin_take_the_same_path(
    settings, django_capture_on_commit_callbacks
):
    media = Path(settings.MEDIA_ROOT)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    one, two = story_with_audio(make_user(), media), story_with_audio(make_user("ben"), media)
    console = Client()
    console.force_login(User.objects.create_superuser("staff", password="staff-passphrase-1"))

    with django_capture_on_commit_callbacks(execute=True):
        page = console.post(
            reverse("admin:adventures_adventure_delete", args=[one.id]), {"post": "yes"}
        )
    assert page.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        page = console.post(
            reverse("admin:adventures_adventure_changelist"),
            {"action": "delete_selected", "_selected_action": [str(two.id)], "post": "yes"},
        )
    assert page.status_code == 302

    assert not Adventure.objects.exists()
    assert not (media / "audio").exists() or not any((media / "audio").iterdir())
    assert DeletedSpend.objects.get().adventures == 2


@pytest.mark.django_db
def test_deleting_a_story_cancels_its_queued_job(learner, api):
    adventure = api.post("/api/adventures", {"target_language": "es"}, format="json").json()
    entry_id = adventure["entries"][0]["id"]
    queued = ProcrastinateJob.objects.filter(queueing_lock=f"entry:{entry_id}")
    assert queued.filter(status="todo").exists()

    assert api.delete(f"/api/adventures/{adventure['id']}").status_code == 204

    assert not queued.exists()


@pytest.mark.django_db
def test_a_deletion_rolled_back_leaves_the_story_whole_files_included(
    settings, django_capture_on_commit_callbacks
):
    media = Path(settings.MEDIA_ROOT)
    adventure = story_with_audio(make_user(), media)
    entries = Entry.objects.filter(adventure=adventure).count()

    def delete_then_fail() -> None:
        with transaction.atomic():
            services.adventures_delete(adventure_ids=[adventure.id])
            raise RuntimeError("the database went away half-way")

    with django_capture_on_commit_callbacks(execute=True) as removals, pytest.raises(RuntimeError):
        delete_then_fail()

    assert removals == []
    assert Entry.objects.filter(adventure=adventure).count() == entries
    assert len(list((media / "audio" / str(adventure.id)).iterdir())) == 2
    assert not DeletedSpend.objects.exists()


@pytest.mark.django_db
def test_a_file_that_cannot_be_removed_is_logged_and_the_rows_go_all_the_same(
    settings, django_capture_on_commit_callbacks, caplog
):
    """The storage refuses (a key without the right to delete): the story's
    rows go, its file stays for ``storage_gc``."""
    adventure = story_with_audio(make_user(), Path(settings.MEDIA_ROOT))
    with fake_bunny.FakeBunny() as bunny:
        names = list(
            Audio.objects.filter(entry__adventure=adventure).values_list("file", flat=True)
        )
        for name in names:
            bunny.files[name] = (b"RIFF", "audio/wav")
            bunny.changed[name] = timezone.now()
        options = {
            "storage_zone": fake_bunny.ZONE,
            "api_key": "a-read-only-key",
            "endpoint": bunny.storage.url,
            "pull_zone_url": bunny.pull_zone.url,
            "timeout": 2.0,
        }
        backend = {"BACKEND": "outbound.storage.bunny.BunnyStorage", "OPTIONS": options}
        settings.STORAGES = {**settings.STORAGES, "audio": backend}
        factory.reset()
        with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
            services.adventures_delete(adventure_ids=[adventure.id])
        assert sorted(bunny.files) == sorted(names)
    assert not Adventure.objects.filter(id=adventure.id).exists()
    assert caplog.text.count("not removed (storage_gc will)") == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_story_deleted_while_its_passage_is_read_aloud_stops_and_leaves_no_file(
    start_worker, settings
):
    """The running job stops at its next step boundary (recording the audio),
    and the file it had just written goes too."""
    worker = start_worker(STUB_LATENCY_MS="voice=3000")
    ana = make_user()
    client = client_for(ana)
    adventure = client.post("/api/adventures", {"target_language": "es"}, format="json").json()
    entry_id = adventure["entries"][0]["id"]
    wait_for(
        lambda: Entry.objects.filter(id=entry_id, annotated_at__isnull=False).exists(),
        timeout=60,
        what="the passage to be written and annotated",
    )
    assert client.delete(f"/api/adventures/{adventure['id']}").status_code == 204

    job = ProcrastinateJob.objects.filter(queueing_lock=f"entry:{entry_id}")
    wait_for(
        lambda: job.filter(status="succeeded").exists(),
        timeout=60,
        what="the running job to stop",
    )
    assert not (Path(settings.MEDIA_ROOT) / "audio" / adventure["id"]).exists()
    assert not Entry.objects.filter(id=entry_id).exists()
    assert "Traceback" not in worker.output()
    # The learner's next story is written as usual.
    story = client.post("/api/adventures", {"target_language": "es"}, format="json").json()
    poll_entry_complete(client, story["id"], story["entries"][0]["id"], worker)


@pytest.mark.django_db
def test_a_dropped_branch_read_aloud_loses_its_file_when_settled(
    settings, django_capture_on_commit_callbacks
):
    media = Path(settings.MEDIA_ROOT)
    adventure = make_adventure(make_user())
    decided = make_complete_entry(adventure)
    dropped_choice, chosen = decided.choices.order_by("index")
    branch = make_complete_entry(
        adventure, position=None, branch_choice=dropped_choice, dropped_at=timezone.now()
    )
    make_decision(decided, choice=chosen)
    path = media / Audio.objects.get(entry=branch).file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF-a-branch-never-shown")
    kept = media / Audio.objects.get(entry=decided).file
    kept.write_bytes(b"RIFF-the-story-read-aloud")

    with django_capture_on_commit_callbacks(execute=True):
        services.branches_settle(entry_id=decided.id)

    assert not Entry.objects.filter(id=branch.id).exists()
    assert DroppedBranch.objects.filter(entry_id=branch.id).exists()
    assert not path.exists()
    # The story's own passage keeps its file.
    assert kept.exists()
