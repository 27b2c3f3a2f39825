"""``manage.py delete_learner``: an operator deletes a learner's account and
everything it holds, the same way the learner's own request does."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from operations.cli import to_json
from operations.learner_data.deletion import account_delete


class Command(BaseCommand):
    help = (
        "Delete a learner's account and everything it holds: stories with their "
        "audio files, words, reviews, placements, tokens (as DELETE /api/auth/account "
        "does). Needs --yes. Exit status: 0 when deleted, 1 for an unknown user, "
        "2 on bad arguments."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument(
            "--yes", action="store_true", help="Delete for real (there is no undo)."
        )
        parser.add_argument("--json", action="store_true", help="Print what went as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.named(options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        if not options["yes"]:
            raise CommandError(
                f"This deletes {user.username!r} and everything they hold; "
                "run again with --yes to do it."
            )
        deleted = account_delete(user_id=user.pk)
        if options["json"]:
            self.stdout.write(
                to_json({"id": str(user.pk), "stories": deleted.stories, "rows": deleted.rows})
            )
        else:
            self.stdout.write(
                f"Deleted {user.username}: {deleted.stories} stories, {deleted.rows} rows "
                "(audio files go from storage now)."
            )
