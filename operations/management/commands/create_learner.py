"""``manage.py create_learner``: provision a learner or staff account non-interactively."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.services import user_register
from langlearn import languages
from langlearn.errors import InvalidInput
from operations.cli import to_json
from operations.staff import STAFF_GROUP

PASSWORD_ENV = "LEARNER_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create a learner (or, with --staff, a staff member who can use the admin) "
        "without prompts, for provisioning scripts. The password comes from "
        f"--password-file, --password-stdin or the {PASSWORD_ENV} environment "
        "variable (never from the command line, where other users could read it) "
        "and must pass the password validators. Exit status: 0 when created, 1 when "
        "refused (user exists, weak password, unknown language), 2 on bad arguments."
    )
    # Tests (and other Python callers) may pass a file object to read instead of stdin.
    stealth_options = ("stdin",)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--password-file", type=Path, metavar="PATH", help="Read the password from a file."
        )
        source.add_argument(
            "--password-stdin", action="store_true", help="Read the password from stdin."
        )
        parser.add_argument(
            "--native-language",
            default="en",
            help="Language translations are shown in (default en).",
        )
        parser.add_argument(
            "--staff",
            action="store_true",
            help="A staff member: the admin console (browse everything, re-run entries in error).",
        )
        parser.add_argument("--superuser", action="store_true", help="Staff with every permission.")
        parser.add_argument("--json", action="store_true", help="Print the new user as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        password = self._password(options)
        native = options["native_language"]
        if not languages.can_translate_to(native):
            codes = ", ".join(language.code for language in languages.native_languages())
            raise CommandError(
                f"--native-language {native!r} is not supported; use one of {codes}."
            )
        try:
            with transaction.atomic():
                user = user_register(
                    username=options["username"], password=password, native_language=native
                )
                if options["staff"] or options["superuser"]:
                    user.is_staff = True
                    user.is_superuser = options["superuser"]
                    user.save(update_fields=["is_staff", "is_superuser"])
                if options["staff"]:
                    # The console's permissions (operations/migrations/0001_staff_group).
                    user.groups.add(Group.objects.get(name=STAFF_GROUP))
        except InvalidInput as exc:
            raise CommandError(_messages(exc.detail)) from None
        kind = "superuser" if user.is_superuser else "staff member" if user.is_staff else "learner"
        if options["json"]:
            data = {
                "id": str(user.id),
                "username": user.username,
                "native_language": user.native_language,
                "is_staff": user.is_staff,
                "is_superuser": user.is_superuser,
            }
            self.stdout.write(to_json(data))
        else:
            self.stdout.write(self.style.SUCCESS(f"Created {kind} {user.username} ({user.id})."))

    def _password(self, options: dict[str, Any]) -> str:
        if options["password_file"] is not None:
            try:
                raw = options["password_file"].read_text()
            except OSError as exc:
                raise CommandError(f"Cannot read --password-file: {exc.strerror}") from None
        elif options["password_stdin"]:
            raw = sys.stdin.read() if options.get("stdin") is None else options["stdin"].read()
        else:
            raw = os.environ.get(PASSWORD_ENV, "")
            if not raw:
                raise CommandError(
                    f"No password: use --password-file, --password-stdin or set {PASSWORD_ENV}."
                )
        password = raw.rstrip("\r\n")
        if not password:
            raise CommandError("The password is empty.")
        return password


def _messages(detail: Any) -> str:
    if isinstance(detail, dict):
        return " ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in detail.items())
    return str(detail)
