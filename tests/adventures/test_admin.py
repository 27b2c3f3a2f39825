"""The staff console: every admin page renders with data, in a bounded number of
queries; the entry page shows what staff need; the re-run action and the overview."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from accounts.models import User
from adventures.models import Adventure, DeletedSpend, Entry
from adventures.services import defer_entry_job
from vocabulary import services as vocabulary_services
from vocabulary.models import Card, Word
from vocabulary.placement.items import learner_items

from tests.support.factories import (
    make_adventure,
    make_complete_entry,
    make_decision,
    make_digest,
    make_entry,
    make_news_item,
    make_news_source,
    make_user,
)

pytestmark = pytest.mark.django_db

# Enough for session, user, the page's rows, counts, inlines and jobs (pages
# take 3 to 11 today); not for one query per row: five stories of several rows.
MAX_QUERIES = 15


@dataclass
class Story:
    adventure: Adventure
    complete: Entry
    failed: Entry


def make_story(user: User, *, n: int) -> Story:
    adventure = make_adventure(user, title=f"El faro {n}", status=Adventure.Status.ERROR)
    complete = make_complete_entry(adventure, position=1)
    failed = make_entry(
        adventure,
        position=2,
        status=Entry.Status.ERROR,
        error_message="We could not write this part of the story.",
        error_detail="ProviderError: deepl answered 503 (attempt 3 of 3)",
    )
    make_decision(complete, next_entry=failed)
    defer_entry_job(failed)  # a job row (with its 'deferred' event) for the entry page
    return Story(adventure, complete, failed)


@pytest.fixture(autouse=True)
def _console_settings(settings, _isolated) -> None:
    """Admin pages link static files; tests run without ``collectstatic``'s manifest.
    A fast password hasher: these tests are not about passwords."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def staff() -> User:
    return User.objects.create_superuser("staff", password="staff-passphrase-1")


@pytest.fixture
def console(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def stories() -> list[Story]:
    learners = [make_user("ana"), make_user("ben")]
    stories = [make_story(learners[n % 2], n=n) for n in range(5)]
    for n, story in enumerate(stories):  # the vocabulary admin's rows (issue 13)
        word = Word.objects.create(
            user=story.adventure.user, language="es", lemma=f"faro{n}", entry=story.complete
        )
        Card.objects.create(word=word, due=timezone.now())
        vocabulary_services.review_submit(
            user=word.user, word_id=word.id, rating="good", review_id=uuid.uuid4()
        )
    for learner in learners:  # the placement admin's rows
        items = learner_items(learner.pk, "es")
        vocabulary_services.placement_submit(
            user=learner, language="es", answers=[(item.id, item.band == 1) for item in items]
        )
    Group.objects.create(name="support")
    DeletedSpend.objects.create(day=timezone.now().date(), adventures=2, entries=9)
    for n, language in enumerate(("es", "fr")):  # news/admin.py
        source = make_news_source(url=f"https://news{n}.example/rss", language=language)
        for guid in ("a", "b", "c"):
            make_news_item(source, guid=guid)
    make_digest()  # the digest admin's row (news/admin.py)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_workers (last_heartbeat) "
            "VALUES (now() - interval '5 minutes')"
        )
    return stories


def test_every_changelist_and_change_page_renders_with_bounded_queries(
    console, stories, django_assert_max_num_queries
):
    pages = []
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        obj = model_admin.get_queryset(None).order_by("pk").first()
        assert obj is not None, f"no {meta.label} row to show"
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]))
    assert "/admin/procrastinate/procrastinatejob/" in pages  # Procrastinate's own jobs admin

    for url in pages:
        with django_assert_max_num_queries(MAX_QUERIES):
            response = console.get(url)
        assert response.status_code == 200, url


def test_the_admin_index_links_to_the_overview(console, stories):
    page = console.get("/admin/").content.decode()
    assert reverse("admin-overview") in page
    assert "Procrastinate" in page


def test_the_entry_page_shows_text_pairs_choices_tokens_audio_and_jobs(console, stories):
    story = stories[0]
    page = console.get(reverse("admin:adventures_entry_change", args=[story.complete.id]))
    html = page.content.decode()
    assert "Es una mañana fría." in html
    assert "It is a cold morning." in html
    assert "Ir al faro" in html
    assert "Go to the lighthouse" in html
    assert "pescador" in html
    assert "NOUN" in html
    assert f'<audio controls preload="none" src="/media/audio/{story.adventure.id}/' in html

    failed = console.get(reverse("admin:adventures_entry_change", args=[story.failed.id]))
    html = failed.content.decode()
    assert "ProviderError: deepl answered 503 (attempt 3 of 3)" in html
    job = ProcrastinateJob.objects.get(args__entry_id=str(story.failed.id))
    job_url = reverse("admin:procrastinate_procrastinatejob_change", args=[job.id])
    assert f'<a href="{job_url}">{job.id}</a></td><td>todo</td><td>0</td>' in html


def test_the_adventure_page_lists_its_entries_in_order(console, stories):
    story = stories[1]
    html = console.get(
        reverse("admin:adventures_adventure_change", args=[story.adventure.id])
    ).content.decode()
    assert html.index("Es una mañana fría") < html.index("We could not write this part")


def _run_action(console, entries: list[Entry]):
    return console.post(
        reverse("admin:adventures_entry_changelist"),
        {"action": "rerun_pipeline", "_selected_action": [str(e.id) for e in entries]},
        follow=True,
    )


def _entries_with_jobs() -> set[str]:
    return {
        job.args["entry_id"]
        for job in ProcrastinateJob.objects.filter(status="todo", task_name__contains="entry")
    }


def test_rerun_requeues_exactly_the_selected_entries_in_error(console, stories):
    with connection.cursor() as cursor:  # (Procrastinate's models are read-only)
        cursor.execute("DELETE FROM procrastinate_jobs")  # the failed entries' jobs are spent
    first, second, third = stories[:3]
    response = _run_action(console, [first.failed, second.failed, first.complete])

    assert response.status_code == 200
    assert _entries_with_jobs() == {str(first.failed.id), str(second.failed.id)}
    statuses = dict(Entry.objects.values_list("id", "status"))
    assert statuses[first.failed.id] == statuses[second.failed.id] == Entry.Status.PENDING
    assert statuses[third.failed.id] == Entry.Status.ERROR  # not selected
    assert statuses[first.complete.id] == Entry.Status.COMPLETE
    shown = [str(m) for m in response.context["messages"]]
    assert "Re-queued 2 entries." in shown
    assert "Skipped 1: 1 not in error (complete). Only entries in error are re-run." in shown


def test_rerun_skips_an_entry_whose_job_is_still_queued(console, stories):
    story = stories[0]  # make_story left a queued job for the failed entry
    response = _run_action(console, [story.failed])
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [
        "Re-queued 0 entries.",
        "Skipped 1: 1 already queued. Only entries in error are re-run.",
    ]
    assert Entry.objects.get(id=story.failed.id).status == Entry.Status.ERROR


def test_the_overview_shows_queue_depth_failures_and_oldest_waiting_job(console, stories):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_events SET at = now() - interval '2 hours' "
            "WHERE type = 'deferred'"
        )
    Entry.objects.filter(id=stories[2].failed.id).update(
        updated_at=timezone.now() - timedelta(days=2)
    )
    response = console.get("/admin/overview/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<tr><td>adventure_pipeline</td><td>5</td></tr>" in html  # five todo jobs
    assert "Entries failed in the last 24 hours: 4" in html
    oldest = ProcrastinateJob.objects.order_by("id").first()
    assert f">{oldest.id}</a></td>\n            <td>2h 0m</td>" in html
    assert "None: every running job has a live worker." in html


def test_the_overview_is_for_staff_only(stories):
    client = Client()
    client.force_login(User.objects.get(username="ana"))
    response = client.get("/admin/overview/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
