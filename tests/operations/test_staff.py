"""Staff accounts made with ``create_learner --staff`` get a working console."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse
from procrastinate.contrib.django.models import ProcrastinateJob

from adventures.models import Entry
from news.models import Digest

from tests.support.factories import (
    make_adventure,
    make_complete_entry,
    make_digest,
    make_entry,
    make_user,
)

pytestmark = pytest.mark.django_db

PASSWORD = "staff-passphrase-1"


@pytest.fixture(autouse=True)
def _console_settings(settings, monkeypatch) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    monkeypatch.setenv("LEARNER_PASSWORD", PASSWORD)


def admin_login(username: str, *flags: str) -> tuple[Client, bool]:
    """Make the account with ``create_learner``, sign in on the admin's form."""
    call_command("create_learner", "--username", username, *flags, stdout=io.StringIO())
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": PASSWORD}, follow=True
    )
    return client, response.wsgi_request.user.is_authenticated


def signed_in(username: str, *flags: str) -> Client:
    client, accepted = admin_login(username, *flags)
    assert accepted
    return client


def test_a_staff_account_browses_and_reruns_entries():
    adventure = make_adventure(make_user("ana"), title="The lighthouse")
    make_complete_entry(adventure, position=1)
    failed = make_entry(adventure, position=2, status=Entry.Status.ERROR, error_detail="boom")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")
    console = signed_in("sam", "--staff")

    index = console.get("/admin/").content.decode()
    assert "have permission to view or edit anything" not in index
    for section in ("Adventures", "Entries", "Procrastinate", "Users"):
        assert section in index
    assert console.get(reverse("admin:adventures_adventure_changelist")).status_code == 200
    assert (
        "The lighthouse"
        in console.get(reverse("admin:adventures_adventure_changelist")).content.decode()
    )
    page = console.get(reverse("admin:adventures_entry_change", args=[failed.id]))
    assert page.status_code == 200
    assert "boom" in page.content.decode()
    assert (
        console.get(reverse("admin:procrastinate_procrastinatejob_changelist")).status_code == 200
    )

    response = console.post(
        reverse("admin:adventures_entry_changelist"),
        {"action": "rerun_pipeline", "_selected_action": [str(failed.id)]},
        follow=True,
    )
    assert "Re-queued 1 entry." in [str(m) for m in response.context["messages"]]
    assert Entry.objects.get(id=failed.id).status == Entry.Status.PENDING
    assert ProcrastinateJob.objects.filter(status="todo").count() == 1
    # Browsing, not editing: no user changes, no deleting entries.
    assert console.get(reverse("admin:accounts_user_add")).status_code == 403
    assert (
        console.post(
            reverse("admin:adventures_entry_delete", args=[failed.id]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_staff_manage_news_sources_and_browse_words_and_reviews():
    console = signed_in("sam", "--staff")
    index = console.get("/admin/").content.decode()
    for section in ("News", "Vocabulary"):
        assert section in index
    added = console.post(
        reverse("admin:news_newssource_add"),
        {"name": "El País", "url": "https://example.org/rss", "language": "es", "enabled": "on"},
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    for name in ("news_newsitem", "vocabulary_word", "vocabulary_review"):
        assert console.get(reverse(f"admin:{name}_changelist")).status_code == 200, name


def test_a_learner_gets_no_console_and_a_superuser_everything():
    learner, accepted = admin_login("leo")
    assert not accepted
    assert learner.get("/admin/").status_code == 302  # back to the login page
    boss = signed_in("bea", "--superuser")
    assert boss.get(reverse("admin:accounts_user_add")).status_code == 200


def test_a_staff_account_sees_what_branches_generated_ahead_cost():
    from adventures.models import DroppedBranch

    adventure = make_adventure(make_user("ana"), title="The lighthouse")
    entry = make_complete_entry(adventure, position=1, llm_output_tokens=120)
    DroppedBranch.objects.create(
        adventure=adventure,
        entry_id=entry.id,  # (any id: the branch row is gone)
        status="complete",
        branch_created_at=entry.created_at,
        llm_input_tokens=400,
        llm_output_tokens=987,
        translated_characters=321,
        audio_seconds="12.500",
    )
    console = signed_in("sam", "--staff")

    page = console.get(reverse("admin:adventures_adventure_change", args=[adventure.id]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "dropped branches (speculative spend)" in html.lower()
    assert "<td>speculative (branches)</td><td>1</td><td>400 / 987</td><td>321</td>" in html
    assert "<td>story</td><td>1</td><td>0 / 120</td>" in html


def test_staff_browse_digests_and_rerun_one_in_error():
    failed = make_digest(status=Digest.Status.ERROR, error_detail="ProviderError: boom")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")
    console = signed_in("sam", "--staff")

    assert "Digests" in console.get("/admin/").content.decode()
    page = console.get(reverse("admin:news_digest_change", args=[failed.id]))
    assert page.status_code == 200
    assert "ProviderError: boom" in page.content.decode()
    response = console.post(
        reverse("admin:news_digest_changelist"),
        {"action": "rerun_digests", "_selected_action": [failed.id]},
        follow=True,
    )
    assert "Re-queued 1 digest." in [str(m) for m in response.context["messages"]]
    assert Digest.objects.get(id=failed.id).status == Digest.Status.PENDING
    # Browsing, not editing: no deleting digests.
    delete = reverse("admin:news_digest_delete", args=[failed.id])
    assert console.post(delete, {"post": "yes"}).status_code == 403
