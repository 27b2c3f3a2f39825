"""Leaving: a learner's account and everything it owns, deleted.

One path for the learner (``DELETE /api/auth/account`` with their password),
staff (the admin's user pages and its *Delete* action) and operators
(``manage.py delete_learner``). In one transaction: the learner's stories go
the way a deleted story goes (``adventures.services.adventures_delete``: queued
jobs cancelled, spend kept without them, audio files removed after the
commit); their refresh tokens are deleted, so none works again, and access
tokens name a user that no longer exists (as do events tickets); the finished
pipeline jobs that name them; then the user's row, which takes every row that
refers to it (words, cards, reviews, placements, group links, the admin's log
of what they did as staff). A failure half-way rolls all of it back, files
included.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db import connection, transaction
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User
from adventures.services import adventures_delete
from langlearn.errors import InvalidInput

from .ownership import owned_models, rows_of

WRONG_PASSWORD = "The password is not correct."
# Jobs a worker holds are left to finish (and find their entry gone).
_FINISHED_JOBS = ("succeeded", "failed", "cancelled", "aborted")


@dataclass(frozen=True)
class Deleted:
    """What went, for the operator's command and the log."""

    stories: int
    rows: int


def account_delete_checked(*, user: User, password: str) -> Deleted:
    """The learner leaves: ``account_delete`` once ``password`` is theirs
    (``InvalidInput`` on ``password`` otherwise)."""
    if not user.check_password(password):
        raise InvalidInput({"password": [WRONG_PASSWORD]})
    return account_delete(user_id=user.pk)


@transaction.atomic
def account_delete(*, user_id: UUID) -> Deleted:
    """Delete the learner ``user_id`` and every row and file they own (see the
    module docstring). Nothing to do for a user already gone."""
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        return Deleted(stories=0, rows=0)
    rows = sum(
        rows_of(model, path, user.pk).count()
        for model, path in owned_models().items()
        if not model._meta.auto_created
    )
    stories = adventures_delete(
        adventure_ids=list(user.adventures.values_list("id", flat=True))  # type: ignore[attr-defined]
    )
    OutstandingToken.objects.filter(user=user).delete()
    with connection.cursor() as cursor:
        # Procrastinate's Django models are read-only; its table is ours.
        cursor.execute(
            "DELETE FROM procrastinate_jobs WHERE args->>'user_id' = %s AND status::text = ANY(%s)",
            [str(user.pk), list(_FINISHED_JOBS)],
        )
    user.delete()
    return Deleted(stories=stories, rows=rows)
