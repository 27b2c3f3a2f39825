"""Leaving: ``DELETE /api/auth/account``, the admin and ``manage.py
delete_learner`` delete every row and every file a learner owns, found by
looking at the models, so a model added later cannot be forgotten."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.test import Client
from django.urls import reverse
from procrastinate.contrib.django.models import ProcrastinateJob
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from adventures.models import Adventure, DeletedSpend, Entry
from operations.learner_data.ownership import owned_models, rows_of

from tests.support.api import client_for
from tests.support.learner_data import make_full_learner

pytestmark = pytest.mark.django_db


def owned_rows(user: User) -> dict[type[models.Model], set]:
    """The primary keys of the user's rows, per model that can hold them."""
    return {
        model: set(rows_of(model, path, user.pk).values_list("pk", flat=True))
        for model, path in owned_models().items()
    }


def test_the_models_that_hold_a_learners_rows_are_found_through_their_foreign_keys():
    owned = {model._meta.label: path for model, path in owned_models().items()}
    assert owned["accounts.User"] == ""
    assert owned["adventures.Adventure"] == "user"
    assert owned["adventures.Token"] == "entry__adventure__user"
    assert owned["vocabulary.Review"] == "user"
    assert owned["vocabulary.Card"] == "word__user"
    assert owned["token_blacklist.OutstandingToken"] == "user"
    assert owned["token_blacklist.BlacklistedToken"] == "token__user"
    assert "news.Digest" not in owned
    assert "adventures.DeletedSpend" not in owned


def finished_job(user: User) -> int:
    """A pipeline job of the user's that succeeded (its row names them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status)"
            " VALUES ('adventure_pipeline', 'adventures.generate_adventure_entry', %s, 'succeeded')"
            " RETURNING id",
            [json.dumps({"adventure_id": "a", "entry_id": "e", "user_id": str(user.pk)})],
        )
        return cursor.fetchone()[0]


def every_row_goes(before: dict[type[models.Model], set]) -> None:
    for model, pks in before.items():
        left = model._default_manager.filter(pk__in=pks)
        assert not left.exists(), f"{model._meta.label}: {left.count()} rows left behind"


@pytest.fixture
def two_learners(settings) -> tuple[User, User]:
    media = Path(settings.MEDIA_ROOT)
    return make_full_learner(media), make_full_learner(media, "ben")


def test_leaving_deletes_every_row_and_file_the_learner_owns(
    settings, two_learners, django_capture_on_commit_callbacks
):
    ana, ben = two_learners
    client = client_for(ana)
    before = owned_rows(ana)
    empty = [model._meta.label for model, pks in before.items() if not pks]
    # A model added later gets rows in make_full_learner, so that its
    # deletion is checked here.
    assert not empty, f"tests/support/learner_data.py makes no rows of {empty}"
    bens = owned_rows(ben)
    anas_job, bens_job = finished_job(ana), finished_job(ben)
    anas = Adventure.objects.get(user=ana).id
    ticket = client.post(f"/api/adventures/{anas}/events/ticket").json()["ticket"]
    refresh = str(RefreshToken.for_user(ana))
    story = Path(settings.MEDIA_ROOT) / "audio" / str(Adventure.objects.get(user=ana).id)
    assert len(list(story.iterdir())) == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(
            "/api/auth/account", {"password": "a-long-passphrase"}, format="json"
        )

    assert response.status_code == 204
    every_row_goes(before)
    assert not story.exists()
    # Every token and ticket is refused from now on.
    assert client.get("/api/adventures").status_code == 401
    refreshed = APIClient().post("/api/auth/token/refresh", {"refresh": refresh}, format="json")
    assert refreshed.status_code == 401
    stream = APIClient().get(f"/api/adventures/{anas}/events?ticket={ticket}")
    assert stream.status_code == 401
    # The name can be taken again; the spend stays, without the learner.
    assert not User.objects.filter(username="ana").exists()
    assert DeletedSpend.objects.get().adventures == 1
    # The other learner keeps everything.
    assert owned_rows(ben) == bens
    jobs = set(ProcrastinateJob.objects.values_list("id", flat=True))
    assert anas_job not in jobs
    assert bens_job in jobs
    assert Path(settings.MEDIA_ROOT, "audio", str(Adventure.objects.get(user=ben).id)).exists()


def test_leaving_needs_the_current_password(learner, api):
    wrong = api.delete("/api/auth/account", {"password": "not-my-password"}, format="json")
    assert wrong.status_code == 400
    assert wrong.json()["password"] == ["The password is not correct."]
    assert api.delete("/api/auth/account").status_code == 400
    assert api.delete("/api/auth/account", {"password": 12}, format="json").status_code == 400
    assert (
        APIClient().delete("/api/auth/account", {"password": "x"}, format="json").status_code == 401
    )
    assert User.objects.filter(pk=learner.pk).exists()


def test_staff_deleting_learners_in_the_admin_take_the_same_path(
    settings, two_learners, django_capture_on_commit_callbacks
):
    ana, ben = two_learners
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    before = {**owned_rows(ana)}
    bens = owned_rows(ben)
    staff = User.objects.create_superuser("staff", password="staff-passphrase-1")
    console = Client()
    console.force_login(staff)

    with django_capture_on_commit_callbacks(execute=True):
        page = console.post(reverse("admin:accounts_user_delete", args=[ana.pk]), {"post": "yes"})
    assert page.status_code == 302
    every_row_goes(before)
    with django_capture_on_commit_callbacks(execute=True):
        page = console.post(
            reverse("admin:accounts_user_changelist"),
            {"action": "delete_selected", "_selected_action": [str(ben.pk)], "post": "yes"},
        )
    assert page.status_code == 302
    every_row_goes(bens)
    assert not Entry.objects.exists()
    assert not Path(settings.MEDIA_ROOT, "audio").exists()
    # The admin's own record of the deletions, by staff, stays.
    assert LogEntry.objects.filter(user=staff).count() == 2


def test_an_operator_deletes_a_learner_with_a_command(
    settings, two_learners, capsys, django_capture_on_commit_callbacks
):
    ana, _ = two_learners
    before = owned_rows(ana)
    with pytest.raises(CommandError, match="run again with --yes"):
        call_command("delete_learner", "--username", "ana")
    with pytest.raises(CommandError, match="No user 'nobody'"):
        call_command("delete_learner", "--username", "nobody")
    assert User.objects.filter(pk=ana.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("delete_learner", "--username", "ANA", "--yes", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["stories"] == 1
    assert report["rows"] > 10
    every_row_goes(before)
